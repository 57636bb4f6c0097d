"""The databroker's gRPC service served by the gatehouse binary itself:
`services: databroker` on its own, and `services: all` with grpc_address,
called with grpcio stubs generated from proto/databroker.proto."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import grpc

from harness import GatehouseTestCase

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECRET = b"integration-test-shared-secret!!"
SECRET_B64 = base64.b64encode(SECRET).decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret=SECRET, claims=None):
    claims = claims if claims is not None else {"exp": int(time.time()) + 60}
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, ("%s.%s" % (header, payload)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (header, payload, b64url(signature))


_stubs = None


def stubs():
    global _stubs
    if _stubs is None:
        directory = tempfile.mkdtemp(prefix="gatehouse-stubs-")
        subprocess.run(
            ["protoc", "-I" + ROOT, "--python_out=" + directory, "--grpc_python_out=" + directory,
             "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
             os.path.join(ROOT, "proto", "databroker.proto")], check=True)
        sys.path.insert(0, directory)
        from proto import databroker_pb2, databroker_pb2_grpc
        _stubs = (databroker_pb2, databroker_pb2_grpc)
    return _stubs


class DatabrokerServiceTest(GatehouseTestCase):
    def start_databroker(self, g_dir=None, **extra):
        cfg = {"services": "databroker", "grpc_address": "127.0.0.1:0", "grpc_insecure": True,
               "shared_secret": SECRET_B64, "databroker_storage_type": "memory"}
        cfg.update(extra)
        return self.start_gatehouse(cfg, workdir=g_dir) if g_dir else self.start_gatehouse(cfg)

    def client(self, g):
        pb, pb_grpc = stubs()
        channel = grpc.insecure_channel("127.0.0.1:%d" % g.ports["grpc"])
        self.addCleanup(channel.close)
        return pb, pb_grpc.DataBrokerServiceStub(channel)

    def put(self, pb, stub, id_, fields, secret=SECRET):
        from google.protobuf import struct_pb2
        data = struct_pb2.Struct()
        data.update(fields)
        record = pb.Record(type="type.googleapis.com/session.Session", id=id_)
        record.data.Pack(data)
        return stub.Put(pb.PutRequest(records=[record]), metadata=[("jwt", token(secret))])

    def get(self, pb, stub, id_):
        return stub.Get(pb.GetRequest(type="type.googleapis.com/session.Session", id=id_),
                        metadata=[("jwt", token())])

    def test_databroker_alone_serves_grpc_and_refuses_foreign_secrets(self):
        g = self.start_databroker()
        self.assertNotIn("http", g.ports)
        self.assertNotIn("https", g.ports)
        pb, stub = self.client(g)
        put = self.put(pb, stub, "s1", {"user_id": "alice"})
        self.assertGreater(put.records[0].version, 0)
        self.assertEqual(self.get(pb, stub, "s1").record.id, "s1")
        with self.assertRaises(grpc.RpcError) as wrong:
            self.put(pb, stub, "s2", {}, secret=b"another-deployment-secret-32byte")
        self.assertEqual(wrong.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        with self.assertRaises(grpc.RpcError) as missing:
            stub.Get(pb.GetRequest(type="type.googleapis.com/session.Session", id="s1"))
        self.assertEqual(missing.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_file_storage_survives_a_restart_of_the_binary(self):
        work = tempfile.mkdtemp(prefix="gatehouse-db-")
        cfg = {"databroker_storage_type": "file",
               "databroker_storage_connection_string": os.path.join(work, "db.sqlite")}
        g = self.start_databroker(**cfg)
        pb, stub = self.client(g)
        version = self.put(pb, stub, "kept", {"user_id": "bob"}).records[0].version
        self.assertEqual(g.stop(), 0)
        g2 = self.start_databroker(**cfg)
        pb, stub = self.client(g2)
        record = self.get(pb, stub, "kept").record
        self.assertEqual(record.version, version)

    def test_all_in_one_serves_grpc_when_grpc_address_is_set(self):
        g = self.start_gatehouse({"address": "127.0.0.1:0", "insecure_server": True,
                                  "grpc_address": "127.0.0.1:0", "shared_secret": SECRET_B64,
                                  "routes": []})
        self.assertIn("http", g.ports)
        pb, stub = self.client(g)
        self.assertGreater(self.put(pb, stub, "x", {"a": 1}).records[0].version, 0)

    def test_unusable_storage_stops_the_start_naming_the_setting(self):
        g = self.start_gatehouse({"services": "databroker", "grpc_address": "127.0.0.1:0",
                                  "grpc_insecure": True,
                                  "shared_secret": SECRET_B64, "databroker_storage_type": "postgres",
                                  "databroker_storage_connection_string":
                                      "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"},
                                 wait=False)
        self.assertEqual(g.proc.wait(timeout=30), 1)
        g.returncode = 1
        self.assertIn("databroker_storage_connection_string", g.log_text())


if __name__ == "__main__":
    unittest.main()
