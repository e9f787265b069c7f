"""Session keys that more than one page reads or writes, named once (no imports: any page may use them)."""

APP_TAB = "app_tab"  # the open tab: app.py's st.tabs key ("Explore" or "Train")
MODEL_CHOICE = "model_choice"  # the sidebar's model picker (dashboard/models.py): a model's folder
EXPLORE_Z = "explore.z"  # Explore's ★ (ExploreState.z, dashboard/explore/state.py), read by Train's Compare
