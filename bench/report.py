"""The bench's plot and Markdown summary, from the figures bench/run.py gathered."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot(results, path):
    phases = results["phases"]
    figure, (scale, latency) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 1.6]})

    counts = sorted(phases["scaleout"], key=int)
    rps = [phases["scaleout"][n]["rps"] for n in counts]
    scale.plot([int(n) for n in counts], rps, "o-", label="through Apache")
    scale.plot([int(n) for n in counts], [rps[0] * int(n) for n in counts], "--", color="grey", label="linear")
    scale.set(title="I/O-bound view (20 ms wait), 64 connections", xlabel="replicas", ylabel="requests/s",
              xticks=[int(n) for n in counts])
    scale.legend()

    paths = {
        "feed direct": phases["overhead"]["feed"]["direct"], "feed Apache": phases["overhead"]["feed"]["apache"],
        "trivial direct": phases["overhead"]["trivial"]["direct"],
        "trivial Apache": phases["overhead"]["trivial"]["apache"],
        "feed Apache (2)": phases["peer"]["apache"], "feed HAProxy (2)": phases["peer"]["haproxy"],
        "image bucket": phases["media"]["direct"], "image Apache": phases["media"]["apache"],
    }
    width = 0.27
    for i, p in enumerate(("p50", "p90", "p99")):
        latency.bar([x + (i - 1) * width for x in range(len(paths))], [run["latency_ms"][p] for run in paths.values()],
                    width, label=p)
    latency.set_xticks(range(len(paths)), list(paths), rotation=25, ha="right")
    latency.set(title="Latency per path, 16 connections (one replica unless (2))", ylabel="ms", yscale="log")
    latency.legend()

    m = results["machine"]
    figure.suptitle(f"make bench, {results['date'][:10]}: {m['cores']} cores, {m['cpu']}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def errors(run):
    """The run's failed requests, and of which kinds per round: "15 (read 0+15)"."""
    kinds = ", ".join(f"{kind} {'+'.join(map(str, rounds))}" for kind, rounds in run["error_kinds"].items())
    return f"{run['errors']} ({kinds})" if kinds else str(run["errors"])


def window(w):
    """What clients saw while something happened (bench/run.py `under_load`)."""
    return (f"{w['seconds']:.0f} s under {w['clients']} clients: {w['requests']} requests sent meanwhile, "
            f"{w['failed']} failed, p99 {w['p99_latency_ms']:.0f} ms, slowest {w['max_latency_ms']:.0f} ms"
            + (f"; failures: {', '.join(w['failure_kinds'])}" if w["failure_kinds"] else "") + ".")


def noise(ci):
    """Whether a ratio's confidence interval says it differs from 1 beyond the run-to-run noise."""
    low, high = ci
    return f"CI {low:.2f}–{high:.2f}: " + ("within noise" if low <= 1 <= high else "beyond noise")


def figures(results, targets):
    """The table of headline figures, each against its target; a ratio with a confidence interval shows it."""
    rows = [
        ("overhead_ratio", "Feed page through Apache / direct (1 replica)", "{:.2f}"),
        ("overhead_trivial_ratio", "Trivial view through Apache / direct", "{:.2f}"),
        ("apache_cpu_ms_per_request", "Apache CPU per feed request (ms)", "{:.3f}"),
        ("apache_cpu_ms_per_request_trivial", "Apache CPU per trivial request (ms)", "{:.3f}"),
        ("overhead_noreuse_ratio", "Feed page, no backend reuse: Apache / direct", "{:.2f}"),
        ("apache_cpu_ms_per_request_noreuse", "Apache CPU per feed request, no backend reuse (ms)", "{:.3f}"),
        ("overhead_trivial_noreuse_ratio", "Trivial view, no backend reuse: Apache / direct", "{:.2f}"),
        ("apache_cpu_ms_per_request_trivial_noreuse", "Apache CPU per trivial request, no backend reuse (ms)",
         "{:.3f}"),
        ("scaleout_3x_ratio", "I/O-bound view: 3 replicas / 1", "{:.2f}"),
        ("scaleout_max_share_deviation", "Largest deviation of a replica's share from 1/n", "{:.1%}"),
        ("failover_errors", "Failed requests sent after a SIGKILL (32 clients)", "{}"),
        ("failover_inflight_lost", "Failed requests in flight at the SIGKILL", "{}"),
        ("failover_max_latency_ms", "Slowest request of the failover run (ms)", "{:.0f}"),
        ("failover_noreuse_errors", "Failed after the SIGKILL, no backend reuse", "{}"),
        ("failover_noreuse_inflight_lost", "Failed in flight at the SIGKILL, no backend reuse", "{}"),
        ("failover_noreuse_max_latency_ms", "Slowest request, no backend reuse (ms)", "{:.0f}"),
        ("media_ratio", "Image through Apache / straight from the bucket", "{:.2f}"),
        ("apache_vs_haproxy_ratio", "Feed page: Apache / HAProxy (2 replicas)", "{:.2f}"),
        ("buffering_upload_cost_ratio", "Buffering bodies, photo posts: buffered / streamed", "{:.2f}"),
        ("buffering_feed_cost_ratio", "Buffering bodies, feed: buffered / streamed", "{:.2f}"),
        ("deploy_failed", "Failed requests during `make deploy` of a new version (32 clients)", "{}"),
        ("deploy_max_latency_ms", "Slowest request during the deploy (ms)", "{:.0f}"),
        ("swarm_deploy_failed", "Failed requests during `make swarm-deploy` of a new version (32 clients)", "{}"),
        ("swarm_deploy_max_latency_ms", "Slowest request during the Swarm deploy (ms)", "{:.0f}"),
        ("scaleup_failed", "Failed requests while scaling 2 -> 4 replicas (32 clients)", "{}"),
        ("scaleup_max_latency_ms", "Slowest request while scaling up, members added without a reload (ms)", "{:.0f}"),
        ("scaleup_reload_max_latency_ms", "Slowest request while scaling up, each member added by a reload (ms)",
         "{:.0f}"),
        ("buffering_upload_aa_ratio", "Noise: photo posts, buffering Apache against itself (A/A)", "{:.2f}"),
    ]
    lines = ["| Figure | Value | Target |", "|---|---|---|"]
    for key, label, fmt in rows:
        value = results[key]
        target = ""
        if key in targets:
            op, limit = targets[key]
            met = value >= limit if op == ">=" else value <= limit
            target = f"{op} {fmt.format(limit)} {'met' if met else '**missed**'}"
        ci = results.get(key.removesuffix("_ratio") + "_ci")
        shown = fmt.format(value) + (f" ({noise(ci)})" if ci else "")
        lines.append(f"| {label} (`{key}`) | {shown} | {target} |")
    return lines


def summary(results, targets):
    m = results["machine"]
    lines = [f"Measured {results['date']} on {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, "
             f"kernel {m['kernel']}, Docker {m['docker_engine']}; {results['settings']['seconds']:g} s per run, "
             f"{results['settings']['rounds']} alternating rounds; whole bench {results['bench_seconds']} s. "
             "A ratio is the median of the rounds' ratios (each round runs both sides back to back). "
             "CPU per request: the container's CPU time during the run, less what it burns idle over the same "
             "time (Apache: member discovery, health checks), over the requests served. req/s counts answers "
             "below 400. A CI is the median ratio's confidence interval (95 % at least, from the rounds' "
             "ratios): a ratio whose CI holds 1 is within noise.", "", *figures(results, targets)]
    phases = results["phases"]
    lines += ["", "| Replicas | req/s (I/O-bound view) | × one | shares | cores busy | Apache idle CPU ms/s |",
              "|---|---|---|---|---|---|"]
    for n, run in sorted(phases["scaleout"].items(), key=lambda item: int(item[0])):
        shares = ", ".join(f"{share:.1%}" for share in sorted(run["shares"].values()))
        lines.append(f"| {n} | {run['rps']:.0f} | {results['scaleout_ratios'][n]:.2f} | {shares} | "
                     f"{run['cores_busy']:.2f} | {results['idle_cpu_ms_per_s'][n]['apache']:.0f} |")
    lines += ["", "| Path | req/s | p50 ms | p99 ms | CPU ms/req (balancer) | cores busy | errors |",
              "|---|---|---|---|---|---|---|"]
    for label, run, balancer in (
            ("feed, direct", phases["overhead"]["feed"]["direct"], None),
            ("feed, Apache", phases["overhead"]["feed"]["apache"], "apache"),
            ("trivial, direct", phases["overhead"]["trivial"]["direct"], None),
            ("trivial, Apache", phases["overhead"]["trivial"]["apache"], "apache"),
            ("feed, direct (no-reuse run)", phases["overhead"]["feed_noreuse"]["direct"], None),
            ("feed, Apache, no backend reuse", phases["overhead"]["feed_noreuse"]["apache"], "apache"),
            ("trivial, direct (no-reuse run)", phases["overhead"]["trivial_noreuse"]["direct"], None),
            ("trivial, Apache, no backend reuse", phases["overhead"]["trivial_noreuse"]["apache"], "apache"),
            ("feed, Apache, 2 replicas", phases["peer"]["apache"], "apache"),
            ("feed, HAProxy, 2 replicas", phases["peer"]["haproxy"], "haproxy"),
            ("image, bucket", phases["media"]["direct"], None),
            ("image, Apache", phases["media"]["apache"], "apache"),
            ("feed, Apache streaming bodies", phases["buffering"]["feed"]["streamed"], "apache-streamed"),
            ("feed, Apache buffering bodies", phases["buffering"]["feed"]["buffered"], "apache"),
            ("photo post, Apache streaming bodies", phases["buffering"]["upload"]["streamed"], "apache-streamed"),
            ("photo post, Apache buffering bodies", phases["buffering"]["upload"]["buffered"], "apache"),
            ("photo post, Apache buffering bodies (A/A, again)", phases["buffering"]["upload_aa"]["buffered again"],
             "apache")):
        cpu = f"{run['cpu_ms_per_request'][balancer]:.3f}" if balancer else ""
        lines.append(f"| {label} | {run['rps']:.0f} | {run['latency_ms']['p50']:.1f} | "
                     f"{run['latency_ms']['p99']:.1f} | {cpu} | {run['cores_busy']:.2f} | {errors(run)} |")
    lines += ["", f"Photo posts ran with {phases['buffering']['upload']['connections']} connections, every other path "
              "with 16."]
    for variant, f in phases["failover"].items():
        lines += ["", f"Failover ({variant}): {f['clients']} clients, {f['replicas']} replicas, {f['killed']} "
                  f"SIGKILLed after {f['seconds'] / 2:g} s of {f['seconds']:g} (dead {f['kill_ms']:.0f} ms after "
                  f"the signal): {f['requests']} requests "
                  f"({f['requests_after_kill']} after the kill), {f['failover_errors']} failed after it, "
                  f"{f['failover_inflight_lost']} in flight lost, p99 after the kill "
                  f"{f['p99_latency_after_kill_ms']:.0f} ms, slowest {f['max_latency_ms']:.0f} ms"
                  + (f"; failures: {', '.join(f['failure_kinds'])}" if f["failure_kinds"] else "") + "."]
    d = phases["deploy"]
    lines += ["", f"Deploy: {d['replicas']} replicas rolled onto a new version in {window(d)}"]
    sw = phases["swarm_deploy"]
    lines += ["", f"Swarm deploy (`make swarm-deploy`, clients on /whoami from the host): {sw['replicas']} replicas "
              f"rolled onto a new version in {window(sw)}"]
    for variant, label in (("slots", "members added through free balancer slots, no reload"),
                           ("reload", "each new member added by a graceful reload of Apache")):
        u = phases["scaleup"][variant]
        lines += ["", f"Scale-up {u['from']} -> {u['to']} replicas, {label}, in {window(u)}"]
    lines.append("")
    return "\n".join(lines)


BEGIN, END = "<!-- figures of bench/results/latest.json, written by make bench -->", "<!-- end of figures -->"


def embed(path, results, targets):
    """The headline figures written into a Markdown file, between its BEGIN and END lines."""
    text = path.read_text()
    before, rest = text.split(BEGIN + "\n", 1)
    after = rest.split(END, 1)[1]
    m = results["machine"]
    table = [f"Measured {results['date'][:10]} on {m['cores']} cores ({m['cpu']}):", "", *figures(results, targets)]
    path.write_text(before + BEGIN + "\n" + "\n".join(table) + "\n" + END + after)
