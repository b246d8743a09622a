"""``petnet serve``: a web app over petnet's pet recognition (the optional extra ``petnet[serve]``).

Modules, one concept each: ``engine`` (the only adapter to ``petnet.pets``), ``uploads`` (limits,
safe names), ``batcher`` (dynamic micro-batching), ``store`` (classes, photos and models under
``--data-dir``), ``trainer`` (the background retrain job), ``service`` (all of it without the web),
``schemas`` and ``routes`` (the JSON API), ``app`` (FastAPI + uvicorn), ``cli``; the page is
``data/index.html`` + ``app.js`` + ``app.css``. Nothing heavy is imported here.
"""
