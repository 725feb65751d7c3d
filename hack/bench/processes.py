"""Process helpers shared by the benchmark drivers."""
import subprocess


def start_printing_url(command, marker, quiet=False):
    """Starts a server that prints `marker URL` once it listens (port 0); returns it and the URL."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL if quiet else None, text=True)
    for line in process.stdout:
        if marker in line:
            return process, line.split(marker, 1)[1].split()[0]
    raise SystemExit(f"{command[0]} exited before listening")


def stop(process, timeout=60):
    """SIGTERM, then SIGKILL if it does not end within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
