"""The deployment files in deploy/: every Kubernetes document parses and
hangs together (ports, probes, selectors, autoscalers), every config they
carry is one `gatehouse validate` accepts for the service that reads it, and
the systemd units are well-formed and start Gatehouse with Type=notify.
"""

import base64
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

from harness import Pki, gatehouse_bin

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
SERVICES = {"proxy", "authorize", "authenticate", "databroker", "cache", "all"}


def kubernetes_documents():
    docs = []
    kdir = os.path.join(DEPLOY, "kubernetes")
    for name in sorted(os.listdir(kdir)):
        if name.endswith(".yaml"):
            with open(os.path.join(kdir, name)) as f:
                for doc in yaml.safe_load_all(f):
                    if doc is not None:
                        docs.append((name, doc))
    return docs


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def unit_settings(path):
    settings = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                key, value = line.split("=", 1)
                settings.setdefault(key, []).append(value)
    return settings


class MaterialDir:
    """Files that the deploy configs name (secrets, certificates), made up
    for the test; validate() rewrites the configs' paths into this place."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gatehouse-deploy-")
        pki = Pki(os.path.join(self.dir, "pki"))
        cert, key = pki.issue("app.example.com", ["app.example.com", "authenticate.example.com"])
        self.files = {
            "shared_secret": base64.b64encode(b"s" * 32).decode(),
            "cookie_secret": base64.b64encode(b"c" * 32).decode(),
            "idp_client_secret": "idp-secret",
            "databroker_dsn": "postgres://gatehouse:pw@127.0.0.1:1/gatehouse",
            "tls.crt": open(cert).read(),
            "tls.key": open(key).read(),
        }
        for name, text in self.files.items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)

    def rewrite(self, text):
        # /etc/gatehouse/secrets/x, /etc/gatehouse/tls/x -> <dir>/x
        return re.sub(r"/etc/gatehouse/(?:secrets|tls)/([A-Za-z0-9_.]+)",
                      lambda m: os.path.join(self.dir, m.group(1)), text)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def validate(config_text, material, env):
    """Runs `gatehouse validate` on the config with the service's
    environment. The storage is swapped for memory: validation must not
    need a reachable PostgreSQL."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=material.dir,
                                     delete=False) as f:
        f.write(material.rewrite(config_text))
        path = f.name
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full_env.update(env)
    return subprocess.run([gatehouse_bin(), "validate", "--config", path],
                          env=full_env, capture_output=True, text=True, timeout=60)


class KubernetesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = kubernetes_documents()
        cls.by_kind = {}
        for name, doc in cls.docs:
            cls.by_kind.setdefault(doc["kind"], []).append(doc)

    def test_every_document_is_a_kubernetes_object(self):
        self.assertGreater(len(self.docs), 10)
        for name, doc in self.docs:
            self.assertIn("apiVersion", doc, name)
            self.assertIn("kind", doc, name)
            if doc["kind"] != "Kustomization":
                self.assertEqual(doc["metadata"]["namespace"] if doc["kind"] != "Namespace"
                                 else doc["metadata"]["name"], "gatehouse", name)

    def test_kustomization_lists_every_file(self):
        (kust,) = self.by_kind["Kustomization"]
        files = {n for n in os.listdir(os.path.join(DEPLOY, "kubernetes"))
                 if n.endswith(".yaml") and n != "kustomization.yaml"}
        self.assertEqual(set(kust["resources"]), files)

    def deployments(self):
        return {d["metadata"]["name"]: d for d in self.by_kind["Deployment"]}

    def test_two_replicas_of_every_service_with_probes_on_declared_ports(self):
        services = set()
        for name, d in self.deployments().items():
            spec = d["spec"]
            self.assertGreaterEqual(spec["replicas"], 2, name)
            (c,) = spec["template"]["spec"]["containers"]
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            self.assertIn(env["SERVICES"], SERVICES, name)
            services.add(env["SERVICES"])
            ports = {p["name"]: p["containerPort"] for p in c["ports"]}
            for key in ("ADDRESS", "GRPC_ADDRESS", "HEALTH_CHECK_ADDR"):
                if key in env:
                    self.assertIn(port_of(env[key]), ports.values(), "%s %s" % (name, key))
            self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz", name)
            self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz", name)
            for probe in ("readinessProbe", "livenessProbe"):
                port = c[probe]["httpGet"]["port"]
                self.assertEqual(ports.get(port), port_of(env["HEALTH_CHECK_ADDR"]),
                                 "%s %s" % (name, probe))
            self.assertIn("cpu", c["resources"]["requests"], name)
            self.assertEqual(spec["selector"]["matchLabels"],
                             {k: v for k, v in spec["template"]["metadata"]["labels"].items()
                              if k in spec["selector"]["matchLabels"]}, name)
        self.assertEqual(services, {"proxy", "authorize", "authenticate", "databroker"})

    def test_services_and_budgets_select_pods_and_named_ports(self):
        deployments = list(self.deployments().values())

        def pods(selector):
            return [d for d in deployments
                    if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v
                           for k, v in selector.items())]

        for s in self.by_kind["Service"]:
            matched = pods(s["spec"]["selector"])
            if s["metadata"]["name"].endswith("postgres"):
                continue
            self.assertEqual(len(matched), 1, s["metadata"]["name"])
            (c,) = matched[0]["spec"]["template"]["spec"]["containers"]
            names = {p["name"] for p in c["ports"]}
            for p in s["spec"]["ports"]:
                self.assertIn(p["targetPort"], names, s["metadata"]["name"])
        for b in self.by_kind["PodDisruptionBudget"]:
            self.assertEqual(len(pods(b["spec"]["selector"]["matchLabels"])), 1,
                             b["metadata"]["name"])

    def test_proxy_and_authorize_scale_horizontally(self):
        deployments = self.deployments()
        targets = {}
        for hpa in self.by_kind["HorizontalPodAutoscaler"]:
            ref = hpa["spec"]["scaleTargetRef"]
            self.assertEqual(ref["kind"], "Deployment")
            self.assertIn(ref["name"], deployments)
            self.assertGreaterEqual(hpa["spec"]["minReplicas"], 2)
            self.assertGreater(hpa["spec"]["maxReplicas"], hpa["spec"]["minReplicas"])
            (c,) = deployments[ref["name"]]["spec"]["template"]["spec"]["containers"]
            targets[ref["name"]] = {e["name"]: e.get("value") for e in c["env"]}["SERVICES"]
        self.assertEqual(sorted(targets.values()), ["authorize", "proxy"])

    def test_the_config_is_valid_for_every_service(self):
        (cm,) = self.by_kind["ConfigMap"]
        text = cm["data"]["config.yaml"]
        # The Secret must provide every file the config names.
        (secret,) = [s for s in self.by_kind["Secret"]
                     if s["metadata"]["name"] == "gatehouse-secrets"]
        for name in re.findall(r"/etc/gatehouse/secrets/([A-Za-z0-9_.]+)", text):
            self.assertIn(name, secret["stringData"])
        material = MaterialDir()
        self.addCleanup(material.close)
        for name, d in self.deployments().items():
            (c,) = d["spec"]["template"]["spec"]["containers"]
            env = {e["name"]: e["value"] for e in c["env"] if "value" in e}
            self.assertEqual(c["args"], ["--config", "/etc/gatehouse/config/config.yaml"])
            r = validate(text, material, env)
            self.assertEqual(r.returncode, 0, "%s: %s%s" % (name, r.stdout, r.stderr))
            self.assertIn("configuration is valid", r.stdout)

    def test_validate_still_refuses_a_broken_config(self):
        # The check above would pass vacuously if validate accepted anything.
        material = MaterialDir()
        self.addCleanup(material.close)
        (cm,) = self.by_kind["ConfigMap"]
        broken = cm["data"]["config.yaml"].replace("grpc_client_timeout: 3s",
                                                   "grpc_client_timeout: soon")
        r = validate(broken, material, {"SERVICES": "proxy"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("grpc_client_timeout", r.stdout + r.stderr)


class SplitFilesTest(unittest.TestCase):
    def test_each_env_file_with_the_shared_config_is_valid(self):
        material = MaterialDir()
        self.addCleanup(material.close)
        split = os.path.join(DEPLOY, "split")
        with open(os.path.join(split, "config.yaml")) as f:
            text = f.read()
        yaml.safe_load(text)
        envs = [n for n in os.listdir(split) if n.endswith(".env")]
        self.assertEqual(sorted(envs), ["authenticate.env", "authorize.env", "databroker.env",
                                        "proxy.env"])
        health_ports = set()
        for name in envs:
            env = dict(line.strip().split("=", 1) for line in open(os.path.join(split, name))
                       if "=" in line and not line.startswith("#"))
            self.assertEqual(env["SERVICES"], name[:-4])
            health_ports.add(port_of(env["HEALTH_CHECK_ADDR"]))
            r = validate(text, material, env)
            self.assertEqual(r.returncode, 0, "%s: %s%s" % (name, r.stdout, r.stderr))
        # One host may run several services: their health ports differ.
        self.assertEqual(len(health_ports), len(envs))


class SystemdTest(unittest.TestCase):
    UNITS = [os.path.join(DEPLOY, "gatehouse.service"),
             os.path.join(DEPLOY, "split", "gatehouse@.service")]

    def test_units_notify_readiness_and_are_sandboxed(self):
        for path in self.UNITS:
            s = unit_settings(path)
            self.assertEqual(s["Type"], ["notify"], path)
            self.assertEqual(s["NotifyAccess"], ["main"], path)
            for key in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp",
                        "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules",
                        "ProtectControlGroups", "RestrictAddressFamilies", "SystemCallFilter",
                        "CapabilityBoundingSet", "MemoryDenyWriteExecute", "LockPersonality"):
                self.assertIn(key, s, "%s lacks %s" % (path, key))
            self.assertEqual(s["ExecReload"], ["/bin/kill -HUP $MAINPID"], path)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
    def test_units_pass_systemd_analyze_verify(self):
        tmp = tempfile.mkdtemp(prefix="gatehouse-units-")
        self.addCleanup(shutil.rmtree, tmp, True)
        for path in self.UNITS:
            # verify checks that ExecStart's binary exists: point it at ours.
            text = open(path).read().replace("/usr/local/bin/gatehouse", gatehouse_bin())
            name = os.path.basename(path).replace("@.service", "@proxy.service")
            unit = os.path.join(tmp, name)
            with open(unit, "w") as f:
                f.write(text)
            if "@" in name:
                shutil.copy(unit, os.path.join(tmp, os.path.basename(path)))
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", unit],
                               capture_output=True, text=True, timeout=60)
            # Only complaints about this unit count; a container without
            # systemd as PID 1 adds unrelated noise about the host.
            mine = [l for l in (r.stdout + r.stderr).splitlines()
                    if name in l or os.path.basename(path) in l]
            self.assertEqual(mine, [], path)


if __name__ == "__main__":
    unittest.main()
