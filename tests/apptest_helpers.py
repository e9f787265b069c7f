"""AppTest helpers that fire what a browser would send for elements AppTest does not model.

Why the private API (`app._tree`, `app._run`, `_make_trigger_id`): Streamlit 1.67's AppTest maps only its
built-in widgets to testing elements (streamlit/testing/v1/element_tree.py). A components-v2 bidi component
comes back as an UnknownElement, which has no setter, and `AppTest.run()` takes only a
timeout; there is no public way to fire a components-v2 trigger from a test. So these
helpers build the WidgetStates the frontend would send and rerun with them. Keep every use of the private API
in this one module, so a Streamlit upgrade that adds a public way, or renames these, is one edit.
"""

from __future__ import annotations

import json


def scatter_charts(app):
    """The Plotly latent maps on the page (dashboard/plotly_map, a components-v2 component: an UnknownElement)."""
    return [el for el in app.main if getattr(el, "type", "") == "bidi_component"
            and el.proto.component_name == "latent_explorer.plotly_map" and el.proto.id.endswith("-explore_scatter")]


def select_on_scatter(app, index):
    """Run the app as if a click on the Plotly map had hit the point of test image `index` (its pick event)."""
    return send_event(app, "explore_scatter", "pick", {"index": index})


def send_event(app, component_key: str, event: str, value):
    """Run the app as if the component with this key had sent a trigger event (what its JS setTriggerValue does)."""
    # _make_trigger_id is how the component itself names its "events" trigger widget (bidi_component/main.py).
    from streamlit.components.v2.bidi_component.main import _make_trigger_id
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    def component():
        return [e for e in app.main
                if getattr(e, "type", "") == "bidi_component" and e.proto.id.endswith(f"-{component_key}")]

    if not component():  # the last run was a fragment's that did not draw it; the browser still shows it:
        app.run()  # a run in which nothing changed (no callback) draws the whole page, as the browser has it
    (el,) = component()
    states = app._tree.get_widget_states()
    trigger = WidgetState(id=_make_trigger_id(el.proto.id, "events"))
    trigger.json_trigger_value = json.dumps([{"event": event, "value": value}])
    states.widgets.append(trigger)
    app._run(states)
    assert not app.exception, app.exception
    return app


def select_on_chart(app, key: str, *points: dict):
    """select_on_scatter for the Plotly chart whose key is `key` (Compare's maps, say)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    (el,) = [e for e in app.main if getattr(e, "type", "") == "plotly_chart" and e.proto.id.endswith(f"-{key}")]
    states = app._tree.get_widget_states()
    selection = WidgetState(id=el.proto.id)
    selection.string_value = json.dumps({"selection": {
        "points": list(points), "point_indices": [p["point_index"] for p in points if "point_index" in p],
        "box": [], "lasso": []}})
    states.widgets.append(selection)
    app._run(states)
    assert not app.exception, app.exception
    return app


def media_id(data: bytes, mimetype: str = "image/png", filename: str | None = None) -> str:
    """The id in the URL under which st.image (or st.download_button, with its file name) serves these bytes
    (Streamlit's in-memory media storage hashes the bytes, their type and a download's name): a test can tell
    which image the page shows, or which file a button offers."""
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    return _calculate_file_id(data, mimetype, filename)
