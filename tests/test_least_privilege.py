"""Non-root processes, and no secret in the git tree, an image's history or an image's environment."""
import subprocess

from harness.cluster import ROOT

SERVICE_USERS = {"was": "app", "db": "mysql", "redis": "redis", "gcs": "gcs"}


def uids_of(container):
    """{pid: (uid, command)} of every process in the container."""
    # A process may exit while it is read (a healthcheck's curl): it is then left out.
    script = ('for p in /proc/[0-9]*; do uid=$(awk \'/^Uid:/{print $2}\' $p/status 2>/dev/null) && '
              'echo "${p#/proc/} $uid $(tr "\\0" " " < $p/cmdline 2>/dev/null)"; done')
    out = container.exec_run(["sh", "-c", script]).output.decode()
    rows = (line.split(" ", 2) for line in out.splitlines())
    return {int(row[0]): (int(row[1]), row[2]) for row in rows if len(row) == 3 and row[1].isdigit()}


def test_services_run_as_non_root_users(cluster):
    for service, user in SERVICE_USERS.items():
        container = cluster.service(service)
        uid = int(container.exec_run(["id", "-u", user]).output)
        main = uids_of(container)[1]
        assert main[0] == uid != 0, (service, main)


def test_apache_workers_are_not_root(cluster):
    apache = cluster.apache()
    www = int(apache.exec_run(["id", "-u", "www-data"]).output)
    workers = [(uid, cmd) for uid, cmd in uids_of(apache).values() if cmd.startswith("apache2") and uid != 0]
    roots = [cmd for uid, cmd in uids_of(apache).values() if cmd.startswith("apache2") and uid == 0]
    assert workers and all(uid == www for uid, _ in workers)
    assert len(roots) == 1, "only the master (which binds port 80) may be root"


def test_no_secret_in_git_image_history_or_image_env(cluster, secrets_dir):
    # Every key of every file: the key file holds the previous key too after make rotate-secrets.
    secrets = [key for path in secrets_dir.iterdir() for key in path.read_text().split()]
    assert secrets and all(len(s) >= 32 for s in secrets)
    tracked = subprocess.run(["git", "grep", "-I", "-l", "-F", *sum((["-e", s] for s in secrets), [])],
                             cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout == ""
    assert ".secrets" not in subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout
    images = {c.image for c in cluster.docker.containers.list(filters={"label": f"com.docker.compose.project={cluster.project}"})}
    for image in images:
        env = "\n".join(image.attrs["Config"].get("Env") or [])
        history = "\n".join(str(layer.get("CreatedBy", "")) for layer in image.history())
        for text in (env, history):
            assert not any(s in text for s in secrets), image.tags
            assert "BEGIN CERTIFICATE" not in text and "PASSWORD=" not in text, image.tags
