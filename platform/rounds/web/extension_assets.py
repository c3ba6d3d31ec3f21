"""The enabled extensions' files for the browser: each one's static folder at
``/static/extensions/<name>/``, and ``/static/extensions/operations.js``, one module that
gathers their rule operations for the browser's rule engine (``forms/static/rules.js``
imports it; with no extension it exports an empty set)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Response, get
from litestar.static_files import create_static_files_router

from rounds.extensions import Active

URL = "/static/extensions"


def operations_module(active: Active) -> str:
    names = active.browser_operations()
    lines = [f"import {{ operations as ext{i} }} from {json.dumps(f'{URL}/{n}/operations.js')}"
             for i, n in enumerate(names)]
    spread = ", ".join(f"...ext{i}" for i in range(len(names)))
    lines.append(f"export const operations = {{ {spread} }}")
    return "\n".join(lines) + "\n"


def handlers(active: Active) -> list[Any]:
    module = operations_module(active)

    @get(f"{URL}/operations.js", include_in_schema=False, opt={"public": True})
    async def extension_operations() -> Response[str]:
        return Response(module, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})

    return [extension_operations, *[
        create_static_files_router(path=f"{URL}/{e.name}", directories=[e.static],
                                   name=f"extension_{e.name}_static", opt={"public": True},
                                   include_in_schema=False)
        for e in active.extensions if e.static is not None]]
