"""Serve a component's frontend folder from the app's own server, so that its JavaScript loads as ES modules.

st.components.v2 serves a component's asset_dir at /_stcore/bidi-components/<component>/<file>, and when the
component's js is a file in it, the page imports it from that URL (built on the app's base path, so it works
behind a proxy, and offline). Its relative imports (`import ... from "./geometry.js"`) then load from the same
folder: ES modules with no build step. Inline js would not do: the page imports it from a blob: URL, against
which no relative import resolves.

An asset_dir is normally declared in an installed package's pyproject.toml. The app is not installed, so the
manifest Streamlit would have read is registered on the running server's component manager (Streamlit 1.67
internals; requirements.txt pins that version). AppTest starts a runtime, hence a manager, per test: every
mount checks its own manager.
"""

from __future__ import annotations

import threading
from pathlib import Path

from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager
from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest

__all__ = ["declare_asset_dir", "serve_modules"]

_LOCK = threading.Lock()  # sessions mount at the same time: one registers, the others find it done


def declare_asset_dir(name: str, folder: Path, version: str = "0", manager=None) -> bool:
    """Serve `folder` at /_stcore/bidi-components/<name>/ (name: "package.component"); False if it cannot be.

    Registering a manifest replaces the component's definition with an empty one; serve_modules registers the
    real one right after."""
    manager = manager or get_bidi_component_manager()
    if manager.get_component_path(name) is None:
        package, component = name.split(".", 1)
        manifest = ComponentManifest(name=package, version=version,
                                     components=[ComponentConfig(component, folder.name)])
        manager.register_from_manifest(manifest, folder.parent)
    return manager.get_component_path(name) is not None


def serve_modules(name: str, folder: Path, entry: str, css: str | None) -> None:
    """Make `entry`, a module in `folder`, the js of component `name` (its css stays inline); call before each
    mount. The page then imports `entry` from the folder's URL, and its relative imports from beside it."""
    manager = get_bidi_component_manager()
    definition = manager.get(name)
    if definition is not None and definition.js_url == entry:
        return
    with _LOCK:
        definition = manager.get(name)
        if definition is not None and definition.js_url == entry:
            return
        if not declare_asset_dir(name, folder, manager=manager):
            raise RuntimeError(f"Streamlit does not serve {folder} for the component {name}")
        manager.register(manager.build_definition_with_validation(component_key=name, html=None, css=css,
                                                                  js=entry))
