import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# What is loaded by now (Django, the apps, the URLconf) lives as long as the worker. Frozen, it is no longer
# traversed by each full collection, which otherwise added tens of milliseconds to one page in twenty
# (compare page of six trials at 500,000 trials: p95 63 ms unfrozen, 42 ms frozen).
gc.freeze()
