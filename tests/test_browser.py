"""A real browser (headless Chromium in a container on the stack's front network) uses the site through
the balancer and switches replica by its ROUTEID cookie."""
import json
import subprocess

from harness.cluster import ROOT


def test_a_browser_signs_up_posts_a_photo_and_keeps_both_on_another_replica(cluster, replicas):
    out = ROOT / "tests" / "output"
    out.mkdir(exist_ok=True)
    out.chmod(0o777)  # written by the browser container's non-root user
    (out / "feed.png").unlink(missing_ok=True)
    routes = ",".join(sorted(cluster.routes().values()))
    result = subprocess.run(
        ["docker", "compose", "-p", cluster.project, "--profile", "browser", "run", "--rm", "--no-deps",
         "-e", f"ROUTES={routes}", "-v", f"{out}:/out", "browser"],
        cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] and len(report["switched"]) == len(replicas) - 1
    assert (out / "feed.png").stat().st_size > 10_000
