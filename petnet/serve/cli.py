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
  petnet serve --host 0.0.0.0 --token s3cret   reachable from your phone, with a token
  curl -F files=@examples/pug_168.jpg http://127.0.0.1:8000/api/predict

Everything taught (classes, photos, trained models) is kept under --data-dir and survives a
restart. With --token (or $PETNET_SERVE_TOKEN), every /api/... request needs
'Authorization: Bearer TOKEN' (reads too; the page has a token field, /docs an Authorize button).
Without a token, the server listens on this computer only, answers only requests for its own
address (Host) and refuses changes sent by pages of other sites; another --host needs --token
(or --allow-open to let anyone who can reach the port in).
"""

LOOPBACK = ("127.0.0.1", "localhost", "::1")


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
                   help="require 'Authorization: Bearer TOKEN' for every /api/ request (printable ASCII; "
                        "default $PETNET_SERVE_TOKEN)")
    p.add_argument("--allow-open", "--allow_open", dest="allow_open", action="store_true",
                   help="listen on a non-loopback --host without --token: anyone who can reach the port "
                        "may read and change everything")
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

    from petnet.serve.security import check_token
    check_token(args.token)
    if args.host not in LOOPBACK and not args.token and not args.allow_open:
        raise PetnetError(f"--host {args.host} without --token would let anyone who can reach the port "
                          "read your photos and change your models: add --token TOKEN (e.g. --token "
                          "$(python -c 'import secrets; print(secrets.token_urlsafe())')), or --allow-open "
                          "if you really mean it")
    data_dir = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    from petnet.pets.cli import recognizer_config
    recognition = recognizer_config(args)
    config = Config(data_dir=data_dir, token=args.token, host=args.host,
                    device=resolve_device(args.device, args.engine), recognition=recognition)
    sock = listen(args.host, args.port)
    app = create_app(config)
    if args.host not in LOOPBACK and not args.token:
        print(f"note: listening on {args.host} without --token (--allow-open): anyone who can reach this "
              "port can read your photos and change your classes and models")
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"petnet serve: http://{host}:{args.port}/  (API docs: /docs; data: {data_dir}; "
          "Ctrl-C stops)", flush=True)
    try:
        serve(app, sock)
    except KeyboardInterrupt:   # uvicorn re-raises Ctrl-C after a clean shutdown
        pass
    print("petnet serve: stopped (everything taught is kept in the data folder)")
    return 0
