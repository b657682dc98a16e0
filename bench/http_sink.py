"""A loopback HTTP endpoint that accepts every POST with 200 and a JSON id, like a provider that works."""

import itertools
import sys

from aiohttp import web

ids = itertools.count(1)


async def accept(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"id": f"sink-{next(ids)}", "sid": f"SM{next(ids)}"}, status=200)


app = web.Application()
app.router.add_post("/{tail:.*}", accept)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
