#!/usr/bin/python3
# The template for a `lockstep live --client-cmd` client (docs/live.md): kazoo's Lock
# here; put your own lock where `lock` is used. Ops come on stdin, events go to stdout,
# one JSON object per line; anything for people goes to stderr.
import json, os, sys
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import LockTimeout
from kazoo.security import CREATOR_ALL_ACL, READ_ACL_UNSAFE

def emit(**event):  # flush every line: lockstep stamps it when it reads it
    print(json.dumps(event), flush=True)

holding = False
def on_state(state):  # tell lockstep as soon as the library says the lock may be gone
    if holding and state in (KazooState.SUSPENDED, KazooState.LOST):
        emit(event="lost", error=state)

# lockstep live --auth: LOCKSTEP_ZK_AUTH is "digest:USER:PASSWORD"; add the identity, and
# let only it write and delete the nodes this client creates (others may read).
auth = os.environ.get("LOCKSTEP_ZK_AUTH", "")
secured = {"auth_data": [tuple(auth.split(":", 1))],
           "default_acl": CREATOR_ALL_ACL + READ_ACL_UNSAFE} if auth else {}
zk = KazooClient(hosts=os.environ["LOCKSTEP_ZK"],
                 timeout=int(os.environ["LOCKSTEP_SESSION_TIMEOUT_MS"]) / 1000, **secured)
zk.add_listener(on_state)
zk.start()
session, passwd = zk.client_id  # the password lets lockstep expire the session
emit(event="ready", session=hex(session), passwd=passwd.hex())
lock, counter = zk.Lock(os.environ["LOCKSTEP_LOCK_PATH"]), os.environ["LOCKSTEP_RESOURCE_PATH"]
for line in sys.stdin:
    op = json.loads(line)["op"]
    if op == "acquire":
        try:
            holding = lock.acquire(timeout=json.loads(line)["timeout_ms"] / 1000)
            emit(event="acquired")
        except LockTimeout:
            emit(event="acquire_failed", error="timeout")
    elif op == "release":
        holding = False
        lock.release()
        emit(event="released")
    elif op == "increment":  # unfenced read-modify-write of the counter
        value = int(zk.get(counter)[0])
        stat = zk.set(counter, str(value + 1).encode())
        emit(event="incremented", read=value, wrote=value + 1, accepted=True, zxid=stat.mzxid)
    elif op == "quit":
        break
zk.stop()
