"""moto's server, answering one request at a time.

`moto_server` always runs werkzeug threaded, and moto 5.2.1 checks a write's condition and then applies the
write without a lock (`Table.put_item`, `transact_write_items`, which even restores a whole-table snapshot on
cancellation). Concurrent conditional writes to one item can therefore both succeed, which DynamoDB never
allows. Serving requests one at a time restores DynamoDB's per-item serialisation, so the store's race tests
test the store and not moto's threading.

Usage: python serial_moto.py PORT [HOST]   (the interpreter must be the one moto is installed in)
"""

import os
import sys

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


def main() -> None:
    port = int(sys.argv[1])
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    # moto_server sets this too; some moto responses build URLs from it.
    os.environ.setdefault("MOTO_PORT", str(port))
    run_simple(host, port, DomainDispatcherApplication(create_backend_app), threaded=False)


if __name__ == "__main__":
    main()
