"""``petnet serve``: the web app (page + JSON API) on a local port.

fastapi, fastapi-offline and uvicorn are the optional extra ``petnet[serve]``; they are imported
only when the command runs, so ``petnet --help`` stays fast and works without them.
"""

from __future__ import annotations

import os
from pathlib import Path

from petnet.cliutil import add_command, add_flag, positive_int
from petnet.errors import PetnetError

EPILOG = """\
examples:
  petnet serve                                 http://127.0.0.1:8000/  (the page; API docs on /docs)
  petnet serve --data-dir ~/pets-app --token s3cret
  curl -F files=@examples/pug_168.jpg http://127.0.0.1:8000/api/predict

Everything taught (classes, photos, trained models) is kept under --data-dir and survives a
restart. With --token (or $PETNET_SERVE_TOKEN), changes need 'Authorization: Bearer TOKEN'.
"""


def register(subparsers) -> None:
    from petnet.output_guard import Output
    from petnet.pets.cli import RECOGNITION_INPUTS, add_recognition_flags
    p = add_command(subparsers, "serve", cmd_serve, inputs=RECOGNITION_INPUTS,
                    outputs=(Output("data_dir", "folder"),),
                    help="web app: recognise pets in the browser and teach petnet your own",
                    description="Serve a page (drop photos, see the top 3; teach your own classes and "
                                "retrain) and a JSON API, on a local port.",
                    epilog=EPILOG)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default %(default)s: this computer only)")
    p.add_argument("--port", type=positive_int, default=8000, help="default %(default)s")
    add_flag(p, "data_dir", default=None,
             help="folder for classes, photos and models (default ~/.local/share/petnet/serve)")
    p.add_argument("--token", default=os.environ.get("PETNET_SERVE_TOKEN") or None,
                   help="require 'Authorization: Bearer TOKEN' for changes (default $PETNET_SERVE_TOKEN)")
    add_recognition_flags(p)     # the same recognition flags as petnet predict (--model: the base model)


def cmd_serve(args) -> int:
    try:
        import fastapi  # noqa: F401
        import fastapi_offline  # noqa: F401  (Swagger UI's files for /docs)
        import python_multipart  # noqa: F401  (uploads)
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise PetnetError(f"petnet serve needs the web extra ({exc.name} is missing): "
                          "pip install 'petnet[serve]'") from None
    from petnet.pets.backbone import resolve_device
    from petnet.serve.app import create_app, listen, serve
    from petnet.serve.service import Config, default_data_dir

    data_dir = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    from petnet.pets.cli import recognizer_config
    recognition = recognizer_config(args)
    config = Config(data_dir=data_dir, token=args.token, device=resolve_device(args.device, args.engine),
                    recognition=recognition)
    sock = listen(args.host, args.port)
    app = create_app(config)
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.token:
        print(f"note: listening on {args.host} without --token: anyone who can reach this port can "
              "change your classes and models")
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"petnet serve: http://{host}:{args.port}/  (API docs: /docs; data: {data_dir}; "
          "Ctrl-C stops)", flush=True)
    try:
        serve(app, sock)
    except KeyboardInterrupt:   # uvicorn re-raises Ctrl-C after a clean shutdown
        pass
    print("petnet serve: stopped (everything taught is kept in the data folder)")
    return 0
