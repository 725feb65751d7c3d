"""Controller benchmark driver (see hack/bench/controller.sh). Standard library only.

Usage: run.py APIDEPLOYER WORK_DIR COUNT IDLE_SECONDS
"""
import base64
import concurrent.futures
import hashlib
import io
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from processes import start_printing_url, stop  # noqa: E402
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PARALLEL_DEPLOYMENTS = 8  # the controller's deployment workers
NODES = 3


def package(service):
    """The quickstart's churn v1 package, renamed to `service`, as zip bytes."""
    folder = os.path.join(ROOT, "examples", "packages", "churn-v1")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest = open(os.path.join(folder, "service.yaml")).read().replace("service: churn", f"service: {service}")
        archive.writestr("service.yaml", manifest)
        archive.write(os.path.join(folder, "models", "churn.onnx"), "models/churn.onnx")
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def start_nodes(apideployer, work, label):
    nodes = []
    for index in range(NODES):
        directory = os.path.join(work, f"{label}-node-{index}")
        subprocess.run([apideployer, "node", "init", directory], check=True, capture_output=True)
        key = subprocess.run([os.path.join(directory, "bin", "apinode-admin"), "admin-key-create"], check=True,
                             capture_output=True, text=True).stdout.strip()
        process, url = start_printing_url([apideployer, "node", "serve", "--data-dir", directory, "--port", "0"], "apinode: serving on ", quiet=True)
        nodes.append({"name": f"node-{index}", "url": url, "key": key, "process": process})
    return nodes


def call(url, method="GET", body=None, headers=None, context=None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=300, context=context) as answer:
        return answer.status, answer.read()


def admin_requests(node):
    text = call(node["url"] + "/metrics")[1].decode()
    return sum(float(value) for value in re.findall(r'^apinode_admin_requests_total\{[^}]*\} ([\d.e+]+)$', text, re.M))


def direct(nodes, packages):
    """The same node calls the controller needs, made directly: create, upload+import, activate."""
    def one_node(node, service, data, digest):
        auth = {"Authorization": "Bearer " + node["key"]}
        call(node["url"] + "/admin/api/services", "POST", json.dumps({"serviceId": service}).encode(), auth)
        call(node["url"] + f"/admin/api/services/{service}/generations/v1/archive", "PUT", data, dict(auth, **{"X-Content-SHA256": digest}))
        mapping = {"strategy": "RANDOM", "entries": [{"generation": "v1", "proba": 1.0}]}
        call(node["url"] + f"/admin/api/services/{service}/actions/setMapping", "POST", json.dumps(mapping).encode(), auth)

    def one_service(item):
        service, (data, digest) = item
        with concurrent.futures.ThreadPoolExecutor(NODES) as per_node:
            list(per_node.map(lambda node: one_node(node, service, data, digest), nodes))

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(PARALLEL_DEPLOYMENTS) as pool:
        list(pool.map(one_service, packages.items()))
    return time.monotonic() - started


class Deployer:
    def __init__(self, kubeconfig):
        config = open(kubeconfig).read()
        self.server = re.search(r"server: (\S+)", config).group(1)
        self.token = re.search(r"token: (\S+)", config).group(1)
        ca = base64.b64decode(re.search(r"certificate-authority-data: (\S+)", config).group(1)).decode()
        self.context = ssl.create_default_context(cadata=ca)
        self.context.check_hostname = False

    def request(self, path, method="GET", body=None, content_type="application/json"):
        headers = {"Authorization": "Bearer " + self.token, "Content-Type": content_type}
        return call(self.server + path, method, body, headers, self.context)

    def create(self, kind_plural, document):
        self.request(f"/apis/apideployer.dev/v1alpha1/namespaces/default/{kind_plural}", "POST", json.dumps(document).encode())


def memory(pid, field):
    """`VmHWM` (peak) or `VmRSS` (now) of a process, in MB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ready_count(deployer):
    items = json.loads(deployer.request("/apis/apideployer.dev/v1alpha1/namespaces/default/servicedeployments")[1])["items"]
    ready = 0
    for item in items:
        generation = item["metadata"].get("generation", 0)
        for condition in item.get("status", {}).get("conditions", []):
            if condition["type"] == "Ready" and condition["status"] == "True" and condition.get("observedGeneration") == generation:
                ready += 1
    return ready


def main(apideployer, work, count, idle_seconds):
    services = [f"svc-{index}" for index in range(count)]
    packages = {service: package(service) for service in services}

    nodes = start_nodes(apideployer, work, "direct")
    direct_seconds = direct(nodes, packages)
    direct_calls = sum(admin_requests(node) for node in nodes) / count / NODES
    for node in nodes:
        stop(node["process"])

    nodes = start_nodes(apideployer, work, "controller")
    data = os.path.join(work, "deployer")
    loader, _ = start_printing_url([apideployer, "serve", "--data-dir", data, "--port", "0", "--no-controller"], "apideployer: serving on ", quiet=True)
    deployer = Deployer(os.path.join(data, "kubeconfig"))
    keys = {node["name"]: node["key"] for node in nodes}
    deployer.create("secrets", {"apiVersion": "apideployer.dev/v1alpha1", "kind": "Secret", "metadata": {"name": "keys"}, "stringData": keys})
    deployer.create("infrastructures", {
        "apiVersion": "apideployer.dev/v1alpha1", "kind": "Infrastructure", "metadata": {"name": "static"},
        "spec": {"stage": "development", "type": "static", "static": {"nodes": [
            {"name": node["name"], "url": node["url"], "adminKeySecretRef": {"name": "keys", "key": node["name"]}} for node in nodes]}}})

    def load(service):
        archive, digest = packages[service]
        deployer.request("/packages/v1", "POST", archive, "application/zip")
        deployer.create("publishedservices", {"apiVersion": "apideployer.dev/v1alpha1", "kind": "PublishedService", "metadata": {"name": service},
                                              "spec": {"versions": [{"version": "v1", "package": {"sha256": digest}}]}})
        deployer.create("servicedeployments", {"apiVersion": "apideployer.dev/v1alpha1", "kind": "ServiceDeployment", "metadata": {"name": service},
                                               "spec": {"service": service, "infrastructure": "static", "version": "v1"}})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(load, services))
    stop(loader)

    started = time.monotonic()
    controller, _ = start_printing_url([apideployer, "serve", "--data-dir", data, "--port", "0"], "apideployer: serving on ", quiet=True)
    deployer = Deployer(os.path.join(data, "kubeconfig"))
    while ready_count(deployer) < count:
        if time.monotonic() - started > 3600:
            raise SystemExit("not all Ready within an hour")
        time.sleep(0.25)
    controller_seconds = time.monotonic() - started
    metrics = deployer.request("/metrics")[1].decode()
    reconciles = sum(float(value) for value in re.findall(r'^reconcile_total\{controller="servicedeployments"[^}]*\} ([\d.e+]+)$', metrics, re.M))
    controller_calls = sum(admin_requests(node) for node in nodes) / count / NODES
    peak = memory(controller.pid, "VmHWM")
    before = cpu_seconds(controller.pid)
    time.sleep(idle_seconds)
    idle_cpu = (cpu_seconds(controller.pid) - before) / idle_seconds * 100
    resident = memory(controller.pid, "VmRSS")
    stop(controller)
    for node in nodes:
        stop(node["process"])

    print(f"| {count} deployments over {NODES} nodes | time to all applied / Ready | admin calls per deployment per node |")
    print("|---|---|---|")
    print(f"| direct script ({PARALLEL_DEPLOYMENTS} services at a time, nodes in parallel) | {direct_seconds:.1f} s | {direct_calls:.1f} |")
    print(f"| controller from a cold start | {controller_seconds:.1f} s ({controller_seconds / direct_seconds:.2f}×) | {controller_calls:.1f} |")
    print()
    print(f"reconciles: {reconciles:.0f} ({reconciles / controller_seconds:.0f}/s); controller peak resident memory {peak:.0f} MB "
          f"({resident:.0f} MB at the end); CPU while idle with {count} Ready deployments over {idle_seconds} s: {idle_cpu:.2f}% of a core")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
