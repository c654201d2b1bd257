#!/usr/bin/env python3
"""Paired timings: every command once per round, rounds repeated, each command's ratio to a
baseline taken within each round, then the median over rounds.

On a shared or virtual machine the speed of the kernel's page handling drifts by tens of
percent over minutes; hyperfine runs one command's runs back to back, so two commands
measured a minute apart can differ by that drift alone. Here each round runs all the
commands within seconds of each other (in a rotating order), and a ratio is taken inside
each round, so a slow spell slows a round's numerator and denominator alike.

Before each run the command's output file is deleted, or its output folder emptied
(outside the timing): a run never pays
for freeing the previous run's output.

usage: paired.py ROUNDS BASELINE NAME=OUTPUT=COMMAND [NAME=OUTPUT=COMMAND ...]
  BASELINE is one of the NAMEs. COMMAND is split on spaces (no quoting). Prints a Markdown
  table: per command the median wall, user and system time, and the median of its per-round
  ratio to BASELINE with the lowest and highest.
"""
import os
import shutil
import statistics
import sys
import time


def clear(output):
    """Delete an output file, or empty an output folder (`--split DIR`). Anything else (a
    device such as /dev/null) is left alone."""
    if os.path.isdir(output):
        shutil.rmtree(output)
        os.mkdir(output)
    elif os.path.isfile(output) and not os.path.islink(output):
        os.unlink(output)


def run(argv, output):
    clear(output)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_RDWR)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed ({status}): {' '.join(argv)}")
    return wall, usage.ru_utime, usage.ru_stime


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    rounds, baseline = int(sys.argv[1]), sys.argv[2]
    commands = []
    for spec in sys.argv[3:]:
        name, output, command = spec.split("=", 2)
        commands.append((name, output, command.split()))
    names = [c[0] for c in commands]
    if baseline not in names:
        sys.exit(f"no command named {baseline}")
    times = {name: [] for name in names}
    # One warm-up round, not counted.
    for name, output, argv in commands:
        run(argv, output)
    for r in range(rounds):
        shift = r % len(commands)
        for name, output, argv in commands[shift:] + commands[:shift]:
            times[name].append(run(argv, output))
    for _, output, _ in commands:
        clear(output)

    base = [t[0] for t in times[baseline]]
    print(f"| command | wall (median) | user | sys | vs {baseline} (median of {rounds} rounds) | lowest–highest |")
    print("|---|---|---|---|---|---|")
    for name in names:
        wall, user, sys_ = (statistics.median(x) for x in zip(*times[name]))
        ratios = [t[0] / b for t, b in zip(times[name], base)]
        print(
            f"| {name} | {wall:.3f} s | {user:.3f} s | {sys_:.3f} s "
            f"| {statistics.median(ratios):.2f}× | {min(ratios):.2f}–{max(ratios):.2f}× |"
        )


if __name__ == "__main__":
    main()
