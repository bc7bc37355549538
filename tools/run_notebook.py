"""Runs a notebook headless through Jupyter (nbclient) with our TypeScript kernel, cell by cell, and
fails on any cell error, including what tslab reports only on stderr (unhandled rejections and
exceptions). Always writes the (partly) executed notebook and, on request, an HTML report.

  run_notebook.py NOTEBOOK --out OUT.ipynb [--html OUT.html] [--kernel convert-to-zarr-ts]
                  [--timeout 600] [--rerun-parameters 'chunks = ...']

--rerun-parameters: after a full run, replace the cell tagged "parameters" with this source and run it
and every cell below it again in the same kernel (what a user does when exploring chunk sizes). Cells
tagged "cleanup" then run only at the very end.
Exit status: 0 when every cell succeeded, 1 otherwise (the failing cell and its stderr are printed).
"""
import argparse
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ASYNC_ERRORS = ("UncaughtException:", "UnhandledPromiseRejection:")

p = argparse.ArgumentParser()
p.add_argument("notebook")
p.add_argument("--out", required=True)
p.add_argument("--html")
p.add_argument("--kernel", default="convert-to-zarr-ts")
p.add_argument("--timeout", type=int, default=600)
p.add_argument("--rerun-parameters")
a = p.parse_args()

nb = nbformat.read(a.notebook, as_version=4)
client = NotebookClient(nb, timeout=a.timeout, startup_timeout=120, kernel_name=a.kernel, resources={"metadata": {"path": "."}})
counter = {"n": 0}


def stderr_of(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr")


def run_cell(i, cell):
    t0 = time.time()
    client.execute_cell(cell, i)
    counter["n"] += 1
    cell["execution_count"] = counter["n"]  # tslab sends no execute_input, so nbclient leaves it empty
    err = stderr_of(cell)
    if any(m in err for m in ASYNC_ERRORS):
        raise CellExecutionError(f"asynchronous error in cell {i}", err, "async")
    print(f"cell {i:2d} ok ({time.time() - t0:5.1f} s)", file=sys.stderr, flush=True)


def fail(i, cell, e):
    print(f"cell {i} failed: {type(e).__name__}", file=sys.stderr)
    print("---- source ----\n" + "".join(cell.get("source", "")), file=sys.stderr)
    print("---- stderr ----\n" + (stderr_of(cell) or str(e))[-4000:], file=sys.stderr)


rc = 0
with client.setup_kernel():
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    passes = [code_cells]
    if a.rerun_parameters:
        passes = [[(i, c) for i, c in code_cells if "cleanup" not in c.get("metadata", {}).get("tags", [])]]
        first = next((k for k, (_, c) in enumerate(code_cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
        if first is None:
            print("no cell tagged 'parameters'", file=sys.stderr)
            sys.exit(2)
        passes.append(code_cells[first:])
    for n, cells in enumerate(passes):
        if n == 1:
            cells[0][1]["source"] = a.rerun_parameters
            print("re-running from the parameters cell with: " + a.rerun_parameters.replace("\n", " "), file=sys.stderr)
        for i, cell in cells:
            try:
                run_cell(i, cell)
            except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
                fail(i, cell, e)
                rc = 1
                break
        if rc:
            break

nbformat.write(nb, a.out)
if a.html:
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter().from_notebook_node(nb)
    with open(a.html, "w", encoding="utf-8") as f:
        f.write(body)
print(f"notebook: {'ok' if rc == 0 else 'FAILED'}; wrote {a.out}" + (f" and {a.html}" if a.html else ""), file=sys.stderr)
sys.exit(rc)
