"""Streamlit-side helpers shared by the pages: the engine, sessions and who is signed in.
Nothing here holds a business rule; those live in feedback/ and planning/."""
