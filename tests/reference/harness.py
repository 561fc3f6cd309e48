"""Shared steps of the reference tests: build a model with `warden model make-tiny`,
run `warden logits`, compare against reference_model.Reference, report."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_model import Reference  # noqa: E402

TOLERANCE = 1e-4


def warden_binary():
    path = os.environ.get("WARDEN_BINARY")
    if not path:
        build = os.environ.get("WARDEN_BUILD_DIR", "")
        path = os.path.join(build, "warden")
    if not os.path.exists(path):
        sys.exit(f"WARDEN_BINARY not found ({path!r}); run through ctest or set WARDEN_BINARY")
    return path


def run(args):
    proc = subprocess.run([warden_binary()] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"warden {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def make_tiny(out_dir, args, config_edit=None):
    """make-tiny with args; if config_edit is given, rewrite config.json with it and
    build again from that file (--config) so the weights match the edited shapes."""
    run(["model", "make-tiny", "--out", out_dir, "--vocab", "none"] + args)
    if config_edit:
        path = os.path.join(out_dir, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        config_edit(cfg)
        edited = out_dir + ".config.json"
        with open(edited, "w") as f:
            json.dump(cfg, f, indent=2)
        keep = [a for i, a in enumerate(args) if a in ("--seed", "--dtype", "--shard-kb") or
                (i > 0 and args[i - 1] in ("--seed", "--dtype", "--shard-kb"))]
        run(["model", "make-tiny", "--out", out_dir, "--vocab", "none", "--config", edited] + keep)


def warden_logits(model_dir, ids, chunk=None):
    args = ["logits", "--model", model_dir, "--ids", ",".join(map(str, ids))]
    if chunk:
        args += ["--chunk", str(chunk)]
    return json.loads(run(args))


class Suite:
    def __init__(self, name):
        self.name = name
        self.results = []
        self.tmp = tempfile.mkdtemp(prefix=f"warden-ref-{name}-")

    def check(self, label, model_dir, ids, chunks=(None,)):
        ref = Reference(model_dir).forward(ids)[-1]
        for chunk in chunks:
            got = warden_logits(model_dir, ids, chunk)
            if len(got) != ref.shape[0]:
                self.results.append((f"{label} chunk={chunk}", float("inf"), f"{len(got)} logits, expected {ref.shape[0]}"))
                continue
            diff = max(abs(a - float(b)) for a, b in zip(got, ref.tolist()))
            argmax_ok = max(range(len(got)), key=got.__getitem__) == int(ref.argmax())
            note = "" if argmax_ok else "argmax differs"
            self.results.append((f"{label} chunk={chunk or len(ids)}", diff, note))

    def model(self, label, args, config_edit=None):
        out = os.path.join(self.tmp, label)
        make_tiny(out, args, config_edit)
        return out

    def finish(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        failed = 0
        print(f"reference check '{self.name}': max |warden - reference| per case (tolerance {TOLERANCE:g})")
        for label, diff, note in self.results:
            ok = diff <= TOLERANCE and not note
            failed += not ok
            print(f"  {'ok  ' if ok else 'FAIL'} {label:<48} max|Δ| = {diff:.3e} {note}")
        print(f"{len(self.results) - failed}/{len(self.results)} cases within tolerance")
        sys.exit(1 if failed or not self.results else 0)


def prompt(n, vocab=512, seed=0):
    rng = random.Random(seed)
    return [rng.randrange(vocab) for _ in range(n)]
