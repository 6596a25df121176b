"""The images' Dockerfiles as the version policy reads them (docs/images.md, "Versions"): what each stage
installs from Debian, and how. Read by the fast tier (base/tests/) and the stack tier (tests/)."""
import pathlib
import re
import shlex
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]

# What ends a command in a RUN line.
COMMAND_END = {"&&", "||", ";", "|", "&"}


def dockerfiles():
    """Every Dockerfile of the repository, committed or not (ignored ones aside), relative to ROOT."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "*Dockerfile*"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return sorted(set(listed.split()))


def stages(text):
    """The RUN instructions of each stage (FROM starts one), comments dropped and continued lines joined."""
    lines = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    result = []
    for instruction in re.sub(r"\\[ \t]*\n", " ", lines).splitlines():
        keyword = instruction.split(maxsplit=1)[0].upper() if instruction.strip() else ""
        if keyword == "FROM":
            result.append([])
        elif keyword == "RUN" and result:
            result[-1].append(instruction.strip())
    return result


def apt_installs(run):
    """The arguments of each apt-install call in a RUN instruction, as the shell splits them: an unquoted
    PACKAGE>=MINIMUM comes out as PACKAGE, then the redirection's ">"."""
    lexer = shlex.shlex(run, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    calls, arguments = [], None
    for token in lexer:
        if arguments is None:
            if token == "apt-install":
                arguments = []
        elif token in COMMAND_END:
            calls.append(arguments)
            arguments = None
        else:
            arguments.append(token)
    return calls if arguments is None else [*calls, arguments]


def specs(stage):
    """Every PACKAGE or PACKAGE>=MINIMUM that a stage's RUN instructions hand to apt-install."""
    return [spec for run in stage for call in apt_installs(run) for spec in call]
