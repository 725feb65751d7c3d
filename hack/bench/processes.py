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


def prepare_node(apideployer, node, package_folder, archive, service="bench", init_options=()):
    """Makes a node data directory serving `package_folder` as `service` (node stopped)."""
    subprocess.run([apideployer, "node", "init", node, *init_options], check=True, capture_output=True)
    subprocess.run([apideployer, "package", "build", package_folder, "-o", archive], check=True, capture_output=True)
    tool = f"{node}/bin/apinode-admin"
    for step in (["service-create", service], ["service-import-generation", service, archive], ["service-switch-to-newest", service]):
        subprocess.run([tool] + step, check=True, capture_output=True)
    return tool
