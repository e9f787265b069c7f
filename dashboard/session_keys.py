"""Session-state keys that more than one module reads or writes: each named once, here."""

from __future__ import annotations

APP_TAB = "app_tab"  # the open tab's label ("Explore", "Train"): st.tabs' key in app.py
PRESENTER = "presenter"  # presenter mode (the sidebar toggle; a link's "pr")
SHOW_EXPLANATIONS = "show_explanations"  # the explanations' sidebar toggle (a link's "ex")
MODEL_CHOICE = "model_choice"  # the sidebar's model selectbox: the chosen checkpoint's folder
MODEL_LAST_GOOD = "model_last_good"  # the last folder that loaded: shown while a newer choice fails
EXPLORE_STAR = "explore.z"  # Explore's ★ (ExploreState.z), the default z of Compare when it has the right size
LECTURE_SCENE = "lecture.scene"  # the lecture scene shown (0-based; None: no lecture), a link's "sc" (from 1)
# A view's builds, like a slide's: its buttons showing the next / the previous part. While a lecture is under way
# the clicker's keys press them before they move to another scene (lecture/frontend/keys.js looks for these keys).
BUILD_NEXT = "lecture_build_next"
BUILD_PREV = "lecture_build_prev"
