"""Submits a workflow built with Hera to a running `skiff server` and waits for it to succeed.

Usage: python tests/hera/hello.py URL [TOKEN]

The workflow is a DAG of three steps on `alpine` (skiff's toolbox runs them): `greet` prints a greeting,
`shout` takes it as an input parameter and writes it upper-cased to an output parameter file, and `check`
receives that parameter. The script checks the run's phase and the output parameter through the API, the
way a Hera user reads results, and exits 0; on any failure it prints what the server answered and exits 1.
"""

import json
import sys
import time

from hera.workflows import DAG, Container, Parameter, Workflow, WorkflowsService
from hera.workflows.models import ValueFrom

TIMEOUT_S = 120


def build(service: WorkflowsService) -> Workflow:
    with Workflow(
        generate_name="hera-hello-",
        entrypoint="main",
        namespace="default",
        workflows_service=service,
        arguments=Parameter(name="who", value="hera"),
    ) as w:
        greet = Container(
            name="greet",
            image="alpine:3.20",
            inputs=Parameter(name="who"),
            command=["sh", "-c"],
            args=["echo hello {{inputs.parameters.who}}"],
        )
        shout = Container(
            name="shout",
            image="alpine:3.20",
            inputs=Parameter(name="text"),
            command=["sh", "-c"],
            args=["echo '{{inputs.parameters.text}}' | tr a-z A-Z > /tmp/loud.txt"],
            outputs=Parameter(name="loud", value_from=ValueFrom(path="/tmp/loud.txt")),
        )
        check = Container(
            name="check",
            image="alpine:3.20",
            inputs=Parameter(name="loud"),
            command=["sh", "-c"],
            args=['test "{{inputs.parameters.loud}}" = "HELLO HERA" && echo ok'],
        )
        with DAG(name="main"):
            a = greet(name="greet", arguments={"who": "{{workflow.parameters.who}}"})
            b = shout(name="shout", arguments={"text": a.result})
            c = check(name="check", arguments={"loud": b.get_parameter("loud")})
            a >> b >> c
    return w


def node_named(status, name: str):
    for node in (status.nodes or {}).values():
        if node.display_name == name:
            return node
    return None


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: hello.py URL [TOKEN]", file=sys.stderr)
        return 2
    host = sys.argv[1]
    token = sys.argv[2] if len(sys.argv) > 2 else None
    service = WorkflowsService(host=host, verify_ssl=False, token=token, namespace="default")
    workflow = build(service)
    try:
        created = workflow.create()
    except Exception as e:  # noqa: BLE001 - print whatever the server or Hera's models said
        print(f"hera: create failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    name = created.metadata.name
    print(f"hera: created {name}")

    deadline = time.monotonic() + TIMEOUT_S
    wf = created
    while True:
        try:
            wf = service.get_workflow(name, namespace="default")
        except Exception as e:  # noqa: BLE001
            print(f"hera: get_workflow({name}) failed: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        phase = wf.status.phase if wf.status else None
        if phase in ("Succeeded", "Failed", "Error"):
            break
        if time.monotonic() > deadline:
            print(f"hera: {name} still {phase} after {TIMEOUT_S}s", file=sys.stderr)
            return 1
        time.sleep(0.2)

    if phase != "Succeeded":
        print(f"hera: {name} ended {phase}: {wf.status.message}", file=sys.stderr)
        print(json.dumps(wf.dict(by_alias=True, exclude_none=True), default=str, indent=2), file=sys.stderr)
        return 1

    shout = node_named(wf.status, "shout")
    params = {p.name: p.value for p in (shout.outputs.parameters or [])} if shout and shout.outputs else {}
    if params.get("loud") != "HELLO HERA":
        print(f"hera: shout's output parameter 'loud' is {params.get('loud')!r}, want 'HELLO HERA'", file=sys.stderr)
        print(json.dumps(wf.dict(by_alias=True, exclude_none=True), default=str, indent=2), file=sys.stderr)
        return 1
    greet = node_named(wf.status, "greet")
    result = greet.outputs.result if greet and greet.outputs else None
    if result != "hello hera":
        print(f"hera: greet's result is {result!r}, want 'hello hera'", file=sys.stderr)
        return 1

    # Also the way Hera's own helper waits: it polls get_workflow until the phase is no longer Running.
    waited = Workflow(name=name, namespace="default", workflows_service=service).wait(poll_interval=0)
    if waited.status.phase != "Succeeded":
        print(f"hera: Workflow.wait() saw {waited.status.phase}", file=sys.stderr)
        return 1
    print(f"hera: {name} Succeeded, loud={params['loud']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
