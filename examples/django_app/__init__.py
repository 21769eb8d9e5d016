"""A Django project with the same flows as the Flask example; see ``manage.py``."""
