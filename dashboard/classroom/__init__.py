"""The class in the room: a lecturer and a class share one latent space, through the class store
(dashboard/class_store) that every replica of the app reads and writes.

    session.py    this page's part in a class (ClassSession), read from the address once; the store
    follow.py     the lecturer's view published at each write of the address; a student's page following it
                  (its map, or its follow line, rerun by push), and breaking away on an own move
    push.py       one thread per replica reads the pulse of the rooms its pages show and reruns those pages
    in_page.py    a move of the ★, the zoom or the picks taken by a follower's map in the page: the address
    lecturer.py   the lecturer's class bar: join link and QR, ask for a digit, a poll, the class's layer, end
    student.py    a student's class bar: follow, draw and send the digit asked for, guess where an image lands
    layers.py     what the lecturer's map shows of the class (Explore's ClassOverlay); the drawings as a file

app.py calls class_bar() once, over the tabs. Explore imports nothing of this package: it draws what
layers.overlay gives it through the context (explore/context.py's OVERLAY_KEY), calls follow.before_map at the
start of its map's fragment (BEFORE_MAP_KEY), reads FOLLOWS_ADDRESS_KEY (set by follow.py where its Live map takes
the ★, the zoom and maybe the picks from the address: latent_plane/frontend/follow.js), and url.write keeps the
class's parameters in the address and tells follow.py of every view written (url.KEEP, url.ON_WRITE).
"""

from __future__ import annotations

import logging

import streamlit as st

from ..class_store import ClassError
from . import lecturer, push, student
from .session import ClassSession, keep_in_address, leave, read_address, store, take_note

__all__ = ["class_bar"]


def class_bar(model, entries) -> None:
    """The class's bar over the tabs, for a page in a class; for any other page only a note when the address
    named a class it cannot join. model: the ModelHandle shown; entries: the models listed."""
    read_address()
    cls = ClassSession()
    note = take_note()
    # On a class page, one container whatever it holds: a note that comes and goes would move the tabs below it in
    # the page's tree, and the browser would mount them afresh, keeping the sub-tab last clicked as their value
    # while showing the one the server set (a student's next click would send it back and break away again).
    if note or cls.room is not None:
        with st.container():
            if note:
                (st.error if note.startswith("!") else st.info)(note.lstrip("!"), icon=":material/groups:")
    if cls.room is None:
        push.forget()
        return
    try:
        if not store().exists(cls.room):
            leave("This class has ended. This page works on its own.")
            st.rerun()
        keep_in_address()
        (lecturer.bar(model) if cls.lecturer else student.bar(model, entries))
    except ClassError as e:
        st.error(str(e), icon=":material/groups:")
    except Exception as e:  # the tabs under the bar still work; the traceback goes to the server log only
        logging.getLogger(__name__).exception("the class bar failed")
        st.error(f"The class bar ran into an error ({type(e).__name__}); the details are in the server log.")
