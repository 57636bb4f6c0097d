"""The databroker's gRPC service seen from another language: Python's grpcio
with stubs generated from proto/databroker.proto, and the service JWT built
by hand (HS256 over the shared secret, `exp` as its only claim)."""

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

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECRET = b"python-interop-shared-secret-32b"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(secret: bytes, claims: dict) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def valid_token() -> str:
    return jwt(SECRET, {"exp": int(time.time()) + 60})


class DatabrokerFromPython(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stubs = tempfile.TemporaryDirectory()
        subprocess.run(
            ["protoc", f"-I{ROOT}", f"--python_out={cls.stubs.name}",
             f"--grpc_python_out={cls.stubs.name}",
             "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
             os.path.join(ROOT, "proto", "databroker.proto")],
            check=True)
        sys.path.insert(0, cls.stubs.name)
        from proto import databroker_pb2, databroker_pb2_grpc  # noqa: E402
        cls.pb = databroker_pb2
        binary = os.environ["DATABROKER_TEST_BIN"]
        cls.server = subprocess.Popen(
            [binary, "--helper", "serve-grpc", "memory", "", SECRET.decode()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = cls.server.stdout.readline().split()
        assert line and line[0] == "port", f"server did not start: {line}"
        cls.channel = grpc.insecure_channel(f"127.0.0.1:{line[1]}")
        cls.stub = databroker_pb2_grpc.DataBrokerServiceStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stdin.close()
        cls.server.wait(timeout=30)
        cls.stubs.cleanup()

    def record(self, type_, id_, fields):
        from google.protobuf import struct_pb2
        data = struct_pb2.Struct()
        data.update(fields)
        record = self.pb.Record(type=type_, id=id_)
        record.data.Pack(data)
        return record

    def test_put_get_query_and_sync(self):
        md = [("jwt", valid_token())]
        put = self.stub.Put(self.pb.PutRequest(records=[
            self.record("session", "py-1", {"user_id": "alice", "n": 3})]), metadata=md)
        self.assertEqual(len(put.records), 1)
        version = put.records[0].version
        self.assertGreater(version, 0)
        self.assertNotEqual(put.server_version, 0)

        got = self.stub.Get(self.pb.GetRequest(type="session", id="py-1"), metadata=md)
        from google.protobuf import struct_pb2
        data = struct_pb2.Struct()
        self.assertTrue(got.record.data.Unpack(data))
        self.assertEqual(data["user_id"], "alice")
        self.assertEqual(got.record.version, version)

        found = self.stub.Query(self.pb.QueryRequest(type="session", query="PY-"), metadata=md)
        self.assertEqual([r.id for r in found.records], ["py-1"])

        stream = self.stub.Sync(self.pb.SyncRequest(
            server_version=put.server_version, record_version=version - 1, type="session"),
            metadata=md)
        first = next(stream)
        self.assertEqual(first.record.id, "py-1")
        stream.cancel()

        with self.assertRaises(grpc.RpcError) as aborted:
            next(self.stub.Sync(self.pb.SyncRequest(server_version=put.server_version + 1),
                                metadata=md))
        self.assertEqual(aborted.exception.code(), grpc.StatusCode.ABORTED)

    def test_only_the_shared_secret_jwt_gets_in(self):
        request = self.pb.GetRequest(type="session", id="nope")
        refused = [
            [],
            [("jwt", "garbage")],
            [("jwt", jwt(b"another-secret-of-thirty-two-byt", {"exp": int(time.time()) + 60}))],
            [("jwt", jwt(SECRET, {"exp": int(time.time()) + 60, "sub": "someone"}))],
            [("jwt", jwt(SECRET, {"exp": int(time.time()) - 600}))],
        ]
        for md in refused:
            with self.assertRaises(grpc.RpcError) as denied:
                self.stub.Get(request, metadata=md)
            self.assertEqual(denied.exception.code(), grpc.StatusCode.UNAUTHENTICATED, md)
        with self.assertRaises(grpc.RpcError) as missing:
            self.stub.Get(request, metadata=[("jwt", valid_token())])
        self.assertEqual(missing.exception.code(), grpc.StatusCode.NOT_FOUND)


if __name__ == "__main__":
    unittest.main()
