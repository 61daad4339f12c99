"""One row per patch: applies, builds, and what checkpatch, W=1, kernel-doc
and a standalone UAPI compile say about it.

Patch k is judged on prefix 1..k, built with the run's config through the
suite's one build path (vm/kernel/request.py), so the build tree moves forward one
patch at a time and ccache keeps each step incremental. W=1 and kernel-doc
findings are counted against prefix k-1 on the same files: a warning that
was already there is not blamed on patch k.
"""

import time
from dataclasses import replace
from pathlib import Path

from vm.cache import Cache
from vm.errors import BuildError, SeriesError
from vm.gate.report import PatchRow
from vm.kernel import apply, build, kconfig, patchcheck, source
from vm.kernel.git import git
from vm.kernel.request import KernelRequest, build_kernel
from vm.kernel.series import Series
from vm.progress import Progress


def _objects(files: list[str], build_dir: Path) -> list[str]:
    """The touched C files this config compiles (a previous build made their .o)."""
    objs = [f[:-2] + ".o" for f in files if f.endswith(".c")]
    return [o for o in objs if (build_dir / o).is_file()]


def _exists_at(repo: Path, commit: str, path: str) -> bool:
    return bool(git(repo, "cat-file", "-t", f"{commit}:{path}", check=False))


def _w1(tree: apply.AppliedTree, configured: build.Configured, cache: Cache,
        objects: list[str]) -> list[str]:
    output = build.make_objects(tree, configured, cache, objects, "W=1")
    return patchcheck.compiler_warnings(output, (tree.path, configured.build_dir))


def _kdoc(tree: apply.AppliedTree, files: list[str]) -> list[str]:
    """kernel-doc on the C sources and headers among @files, as checked out."""
    docs = [tree.path / f for f in files if f.endswith((".c", ".h"))]
    return patchcheck.kernel_doc(tree.path, docs, tree.path)


def patch_rows(full: Series, kernel_tree: Path | None, fragments: tuple[str, ...],
               cache: Cache, log_dir: Path, progress: Progress) -> list[PatchRow]:
    """Every patch's row, in order, up to the first that does not apply or
    build (the later ones cannot be judged). The caller holds the cache lock."""
    src = source.resolve(kernel_tree, cache, progress)
    loaded = kconfig.load_fragments(fragments)
    rows: list[PatchRow] = []
    for k, patch in enumerate(full.patches, 1):
        files = patchcheck.touched_files(patch.text)
        row = PatchRow(number=k, label=patch.label, subject=patchcheck.subject(patch.text))
        rows.append(row)
        progress(f"gate: patch {k}/{len(full.patches)} {patch.label}")
        row.checkpatch = patchcheck.run_checkpatch(src.repo, patch.text)
        # Prefix k-1 as the build tree has it (built by the previous step).
        prev = apply.apply(src, replace(full, patches=full.patches[:k - 1]), progress)
        apply.checkout(prev)
        configured = build.configure(prev, loaded, progress)
        objects = _objects(files, configured.build_dir)
        row.w1_objects = objects
        before_w = _w1(prev, configured, cache, [
            o for o in objects if _exists_at(src.repo, prev.commit, o[:-2] + ".c")])
        before_doc = _kdoc(prev, files)
        start = time.monotonic()
        request = KernelRequest(kernel_tree, replace(full, patches=full.patches[:k]), fragments)
        try:
            built = build_kernel(request, cache, log_dir / f"build-{k:02d}.log", progress)
        except SeriesError as e:
            row.applies, row.problem = False, str(e)
            break
        except BuildError as e:
            row.builds, row.problem = False, str(e)
            break
        row.builds, row.build_seconds = True, time.monotonic() - start
        row.w1_objects = _objects(files, built.configured.build_dir)
        row.w1_new = patchcheck.new_findings(
            before_w, _w1(built.tree, built.configured, cache, row.w1_objects))
        row.kdoc_new = patchcheck.new_findings(before_doc, _kdoc(built.tree, files))
        row.uapi_headers = patchcheck.uapi_headers(files)
        for header in row.uapi_headers:
            row.uapi_errors += patchcheck.compile_uapi(built.headers, header)
    return rows
