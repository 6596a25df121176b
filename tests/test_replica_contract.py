"""What every part relies on: /healthz and /whoami on each replica, X-Served-By everywhere."""
import json


def test_healthz_reports_db_cache_and_storage_on_every_replica(replicas):
    for name, container in replicas.items():
        result = container.exec_run(["curl", "-s", "-w", "\n%{http_code}", "http://127.0.0.1:8000/healthz"])
        body, status = result.output.decode().rsplit("\n", 1)
        report = json.loads(body)
        assert status == "200", report
        assert report["checks"] == {"db": "ok", "cache": "ok", "storage": "ok"}
        assert report["served_by"] == name
        assert report["draining"] is False


def test_whoami_names_an_anonymous_user_and_the_replica(cluster, replicas, client):
    body = client.get(cluster.url("/whoami")).json()
    assert body["user"] is None
    assert body["served_by"] in replicas
