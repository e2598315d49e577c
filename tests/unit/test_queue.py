"""Services queue tasks by name (`infra.queue.enqueue`): every name they use is a registered task,
found without a broker by a process that has never imported a task module."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys

from academy_app.settings import PROJECT_ROOT
from tests.unit.test_layers import module_name


def names_enqueued() -> set[str]:
    """The first argument of every `enqueue(...)` call in the app: a string, or a module constant."""
    names = set()
    for path in sorted((PROJECT_ROOT / "academy_app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and callee(node) == "enqueue"):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant):
                names.add(first.value)
            else:
                assert isinstance(first, ast.Name), f"{path}:{node.lineno}: enqueue a name we can read"
                names.add(getattr(importlib.import_module(module_name(path)), first.id))
    return names


def callee(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)


def test_every_task_a_service_queues_is_registered_under_that_name():
    names = names_enqueued()
    assert {"tasks.emails.send_email", "tasks.certificates.draw_certificate"} <= names
    probe = ("import sys\n"
             "from academy_app.infra import queue\n"
             "assert not any(name.startswith('tasks') for name in sys.modules)\n"
             "print(sorted(queue.registered(name).name for name in sys.argv[1:]))\n")
    env = {key: value for key, value in os.environ.items()
           if key not in {"CELERY_BROKER_URL", "REFLEX_REDIS_URL"}}
    out = subprocess.run([sys.executable, "-c", probe, *sorted(names)], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == str(sorted(names))
