"""Parts of the longer pages, one concern a module: each is a function a page calls where the
part belongs, drawing widgets -> lessons calls -> figures + prose, like a page.

Not in app/views/: Streamlit treats every file there as a page of its own.
"""
