"""The version policy (docs/images.md, "Versions") on every Dockerfile, and base/apt-install's own decisions.

Debian's mirrors keep only the current version of a suite's packages: an image that asks for an exact version
fails to build from the suite's next point release on. So every Debian package goes through base/apt-install,
unversioned or with a minimum, and the packages whose version matters always carry their minimum."""
import os
import re
import shutil
import subprocess

import pytest

from dockerfiles import ROOT, apt_installs, dockerfiles, specs, stages

HELPER = ROOT / "base" / "apt-install"
# The packages whose version the stack, its tests or the bench depend on: a minimum wherever they are installed.
KEY_PACKAGES = {"apache2", "mariadb-server", "redis-server", "haproxy", "wrk", "chromium", "docker.io"}
# Installs that bypass base/apt-install, and so its record and minimums.
OTHER_INSTALL = re.compile(r"\b(?:apt-get|apt|aptitude)\s+(?:-\S+\s+)*install\b|\bdpkg\s+(?:-\S+\s+)*(?:-i|--install)\b")


def helper(snippet, *args, **env):
    """Runs the bash snippet, with "$@" = args, after sourcing base/apt-install (its functions only)."""
    return subprocess.run(["bash", "-c", f'source "$HELPER"\n{snippet}', "bash", *args], capture_output=True,
                          text=True, timeout=10, env={"PATH": os.environ["PATH"], **env, "HELPER": str(HELPER)})


def refused_by_helper(specs):
    """The helper's sentence for each SPEC it would refuse to install (a subshell each: its refusal exits)."""
    result = helper('for spec; do (package "$spec" >/dev/null) || true; done', *specs)
    return result.stderr.splitlines()


def violations(text):
    """What in a Dockerfile's text breaks the policy, a sentence each: none for a Dockerfile that follows it."""
    found, specs = [], []
    for run in (run for stage in stages(text) for run in stage):
        if OTHER_INSTALL.search(run):
            found.append(f"installs Debian packages without base/apt-install: {run}")
        for call in apt_installs(run):
            if any(token.startswith(("<", ">")) for token in call):
                found.append(f"unquoted > in apt-install {' '.join(call)}: the shell redirects, the minimum is lost")
            else:
                specs += call
    found += refused_by_helper(specs)
    found += [f"{spec} matters: give it a minimum, '{spec}>=VERSION'" for spec in specs if spec in KEY_PACKAGES]
    return found


def built_dockerfiles():
    """The Dockerfiles compose.yaml builds (every image of the project)."""
    return sorted(set(re.findall(r"dockerfile:\s*([\w/.-]+)", (ROOT / "compose.yaml").read_text())))


@pytest.mark.parametrize("dockerfile", dockerfiles())
def test_the_dockerfile_follows_the_version_policy(dockerfile):
    assert violations((ROOT / dockerfile).read_text()) == []


def test_every_image_is_read_and_installs_its_debian_packages_through_apt_install():
    assert set(built_dockerfiles()) <= set(dockerfiles())
    for dockerfile in built_dockerfiles():
        assert any(apt_installs(run) for stage in stages((ROOT / dockerfile).read_text()) for run in stage), dockerfile


def test_every_package_whose_version_matters_is_installed_by_an_image():
    installed = {spec.split(">=")[0] for dockerfile in dockerfiles()
                 for stage in stages((ROOT / dockerfile).read_text()) for spec in specs(stage)}
    assert KEY_PACKAGES <= installed


MOUNT = "RUN --mount=type=bind,source=base/apt-install,target=/usr/local/sbin/apt-install \\\n    "


@pytest.mark.parametrize(("dockerfile", "violation"), [
    ("RUN apt-get update && apt-get install -y --no-install-recommends curl", "without base/apt-install"),
    ("RUN apt-get -q install curl", "without base/apt-install"),
    ("RUN apt install ./local.deb", "without base/apt-install"),
    ("RUN dpkg -i /tmp/x.deb", "without base/apt-install"),
    (MOUNT + "apt-install apache2=2.4.71-1~deb13u1 curl", "'apache2=2.4.71-1~deb13u1' is neither"),
    (MOUNT + "apt-install 'redis-server=${REDIS_VERSION}'", "'redis-server=${REDIS_VERSION}' is neither"),
    (MOUNT + "apt-install curl \\\n && true \\\n && apt-install wrk=4.1.0-4+b1", "'wrk=4.1.0-4+b1' is neither"),
    (MOUNT + "apt-install apache2>=2.4.71 curl", "unquoted > in apt-install apache2 > =2.4.71 curl"),
    (MOUNT + "apt-install apache2 curl", "apache2 matters: give it a minimum"),
    ("FROM x AS build\n" + MOUNT + "apt-install python3\nFROM y\n" + MOUNT + "apt-install haproxy", "haproxy matters"),
], ids=["apt-get", "apt-get-option-first", "apt", "dpkg", "exact-pin", "pin-from-arg", "pin-in-a-later-call",
        "unquoted-minimum", "key-without-minimum", "key-in-the-last-stage"])
def test_a_dockerfile_that_breaks_the_policy_is_caught(dockerfile, violation):
    found = violations(f"ARG BASE_IMAGE=debian:trixie-slim\nFROM ${{BASE_IMAGE}}\n{dockerfile}\n")
    assert len(found) == 1 and violation in found[0], found


def test_comments_python_pins_and_quoted_minimums_are_no_violation():
    assert violations("FROM x\n# an apt-get install -y curl would bypass the record\n" + MOUNT
                      + "apt-install 'apache2>=2.4.71-1~deb13u1' 'mariadb-server>=1:11.8.9+ds-0+deb13u1' curl \\\n"
                      + "  && pip install selenium==4.51.0 \\\n  && echo ok >/dev/null\nARG X=1.2-3\n") == []


# base/apt-install itself.

@pytest.mark.parametrize(("spec", "package"), [
    ("curl", "curl"), ("apache2>=2.4.71-1~deb13u1", "apache2"), ("mariadb-server>=1:11.8.9+ds-0+deb13u1",
     "mariadb-server"), ("docker.io>=26.1.5+dfsg1-9+deb13u1+b1", "docker.io"), ("libc6-dev", "libc6-dev"),
])
def test_a_package_is_named_bare_or_with_a_minimum(spec, package):
    result = helper('package "$1"', spec)
    assert (result.returncode, result.stdout) == (0, f"{package}\n"), result.stderr


@pytest.mark.parametrize("spec", ["apache2=2.4.71-1~deb13u1", "apache2>=", "apache2>2.4", "apache2<=2.4",
                                  "Apache2", "${APACHE}", ""])
def test_anything_else_is_refused_in_one_sentence(spec):
    result = helper('package "$1"; echo not reached', spec)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"apt-install: '{spec}' is neither PACKAGE nor PACKAGE>=MINIMUM (an exact version is " \
                            "gone from Debian's mirror at the suite's next point release)\n"


def test_an_exact_pin_fails_the_build_before_apt_is_run(tmp_path):
    (tmp_path / "apt-get").write_text(f"#!/bin/sh\ntouch {tmp_path}/ran\n")
    (tmp_path / "apt-get").chmod(0o755)
    result = subprocess.run([HELPER, "curl", "apache2=2.4.71-1~deb13u1"], capture_output=True, text=True,
                            env={"PATH": f"{tmp_path}:{os.environ['PATH']}"}, timeout=10)
    assert result.returncode == 1 and "'apache2=2.4.71-1~deb13u1' is neither" in result.stderr
    assert not (tmp_path / "ran").exists()


@pytest.fixture
def verified(tmp_path):
    """verified(installed, *specs, record=None) -> the helper's verify SPEC... with dpkg-query answering
    INSTALLED as every package's version, and a record listing each package at that version unless given."""
    def run(installed, *specs, record=None):
        names = [spec.split(">=")[0] for spec in specs]
        path = tmp_path / "versions"
        path.write_text(record if record is not None else "# Debian trixie\n" + "".join(f"{n}={installed}\n" for n in names))
        return helper('dpkg-query() { printf %s "$INSTALLED"; }\nRECORD=$RECORD_PATH\nverify "$@"; echo verified',
                      *specs, INSTALLED=installed, RECORD_PATH=str(path))
    return run


needs_dpkg = pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg --compare-versions compares the versions")


@needs_dpkg
@pytest.mark.parametrize("installed", ["5:8.0.2-3+deb13u3", "5:8.0.2-3+deb13u4", "5:8.2.0-1", "6:1.0-1"])
def test_a_version_at_or_above_the_minimum_passes(verified, installed):
    result = verified(installed, "redis-server>=5:8.0.2-3+deb13u3", "curl")
    assert (result.returncode, result.stdout) == (0, "verified\n"), result.stderr


@needs_dpkg
@pytest.mark.parametrize("installed", ["5:8.0.2-3+deb13u2", "5:8.0.2-3~bpo12+1", "8.0.3-1"])
def test_a_version_below_the_minimum_fails_in_one_sentence_naming_package_version_and_minimum(verified, installed):
    result = verified(installed, "curl", "redis-server>=5:8.0.2-3+deb13u3")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"apt-install: redis-server is {installed} here, older than the minimum " \
                            "5:8.0.2-3+deb13u3 this image needs.\n"


def test_a_record_that_does_not_match_what_is_installed_fails(verified):
    result = verified("2.4.72-1~deb13u1", "apache2>=2.4.71-1~deb13u1", record="apache2=2.4.71-1~deb13u1\n")
    assert result.returncode == 1 and result.stdout == ""
    assert "apache2 is 2.4.72-1~deb13u1 here, but" in result.stderr
