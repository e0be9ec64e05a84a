"""Interop checks of a fixture server with clients we did not write: Python grpcio.

Usage: grpc_client.py <scenario> <host:port> <descriptor-set>

<scenario> is `greeter`, `routes` or `platform` (the fixture's service, see fixtures/README.md);
<descriptor-set> is a FileDescriptorSet of the fixture's .proto files (with imports), made by
`protoc --include_imports --descriptor_set_out`. Request and response messages are protobuf
dynamic messages built from that descriptor set; calls go through grpcio's generic multicallables
on `/<package>.<Service>/<Method>`. Health and reflection use the message classes shipped with
grpcio-health-checking and grpcio-reflection, error details those of grpcio-status.

Prints one line per check (`ok   ...` / `FAIL ...`) and exits non-zero if any check failed.
"""

import math
import queue
import sys
import traceback

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

TIMEOUT = 10  # seconds, per call
TOKEN = "dev-token"

failures = []


def check(label, condition, detail=""):
    if condition:
        print(f"ok   {label}")
    else:
        failures.append(label)
        print(f"FAIL {label}: {detail}")


def check_eq(label, actual, expected):
    check(label, actual == expected, f"expected {expected!r}, got {actual!r}")


def run(label, body):
    """Runs one group of checks; an unexpected exception fails the group."""
    try:
        body()
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed
        failures.append(label)
        print(f"FAIL {label}: unexpected {type(exc).__name__}: {exc}")
        traceback.print_exc(file=sys.stdout)


def expect_error(label, call, code, message=None):
    """`call()` must fail with status `code` (and `message` when given); returns the error."""
    try:
        result = call()
        # A streaming call fails while it is read.
        if hasattr(result, "__iter__") and not hasattr(result, "DESCRIPTOR"):
            list(result)
    except grpc.RpcError as err:
        check_eq(f"{label}: status code", err.code(), code)
        if message is not None:
            check_eq(f"{label}: status message", err.details(), message)
        return err
    check(label, False, f"expected {code}, the call succeeded")
    return None


class Schema:
    """Message classes and method descriptors of a FileDescriptorSet."""

    def __init__(self, path):
        with open(path, "rb") as f:
            fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
        self.pool = descriptor_pool.DescriptorPool()
        for file in fds.file:  # --include_imports lists dependencies first
            self.pool.Add(file)

    def message(self, full_name):
        return message_factory.GetMessageClass(self.pool.FindMessageTypeByName(full_name))

    def new(self, full_name, **fields):
        return self.message(full_name)(**fields)

    def method(self, channel, service, name):
        """A grpcio multicallable for `service`.`name`, of the kind its descriptor says."""
        method = self.pool.FindServiceByName(service).FindMethodByName(name)
        request = message_factory.GetMessageClass(method.input_type)
        response = message_factory.GetMessageClass(method.output_type)
        kind = {
            (False, False): channel.unary_unary,
            (False, True): channel.unary_stream,
            (True, False): channel.stream_unary,
            (True, True): channel.stream_stream,
        }[(method.client_streaming, method.server_streaming)]
        return kind(
            f"/{service}/{name}",
            request_serializer=request.SerializeToString,
            response_deserializer=response.FromString,
        )


# --- greeter -----------------------------------------------------------------------------------


def greeter(channel, schema):
    say_hello = schema.method(channel, "helloworld.Greeter", "SayHello")
    say_goodbye = schema.method(channel, "helloworld.Greeter", "SayGoodbye")

    def hello():
        reply = say_hello(schema.new("helloworld.HelloRequest", name="Ferris"), timeout=TIMEOUT)
        check_eq("greeter SayHello: message", reply.message, "Hello Ferris!")
        expect_error(
            "greeter SayHello with an empty name",
            lambda: say_hello(schema.new("helloworld.HelloRequest", name=""), timeout=TIMEOUT),
            grpc.StatusCode.INVALID_ARGUMENT,
            "name must not be empty",
        )

    def goodbye():
        reply = say_goodbye(
            schema.new("helloworld.GoodbyeRequest", name="Ferris", times=2), timeout=TIMEOUT
        )
        check_eq(
            "greeter SayGoodbye: lines",
            list(reply.lines),
            ["Goodbye Ferris (1)", "Goodbye Ferris (2)"],
        )
        expect_error(
            "greeter SayGoodbye too often",
            lambda: say_goodbye(
                schema.new("helloworld.GoodbyeRequest", name="Ferris", times=9), timeout=TIMEOUT
            ),
            grpc.StatusCode.OUT_OF_RANGE,
            "times must be at most 5, got 9",
        )

    run("greeter SayHello", hello)
    run("greeter SayGoodbye", goodbye)


# --- routes ------------------------------------------------------------------------------------

SERVICE_TRANSIT = "transit.v1.TransitGuide"


def e7(degrees):
    return round(degrees * 1e7)


def haversine_m(a, b):
    lat1, lat2 = math.radians(a[0]), math.radians(b[0])
    dlat, dlon = lat2 - lat1, math.radians(b[1] - a[1])
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


def routes(channel, schema):
    get_stop = schema.method(channel, SERVICE_TRANSIT, "GetStop")
    list_departures = schema.method(channel, SERVICE_TRANSIT, "ListDepartures")
    record_trip = schema.method(channel, SERVICE_TRANSIT, "RecordTrip")
    dispatch = schema.method(channel, SERVICE_TRANSIT, "Dispatch")

    def stop_request(stop_id):
        return schema.new("transit.v1.GetStopRequest", id=stop_id)

    def departures_request(stop_id, limit=0):
        return schema.new("transit.v1.ListDeparturesRequest", stop_id=stop_id, limit=limit)

    def departures(items):
        return [(d.line, d.destination, d.minutes) for d in items]

    def point(lat, lon, stop_id=""):
        position = schema.new("transit.v1.Position", latitude_e7=e7(lat), longitude_e7=e7(lon))
        return schema.new("transit.v1.TripPoint", position=position, stop_id=stop_id)

    def unary():
        stop = get_stop(stop_request("harbour"), timeout=TIMEOUT)
        check_eq("routes GetStop: id", stop.id, "harbour")
        check_eq("routes GetStop: name", stop.name, "Harbour")
        check_eq("routes GetStop: lines", list(stop.lines), ["12"])
        check_eq(
            "routes GetStop: position",
            (stop.position.latitude_e7, stop.position.longitude_e7),
            (e7(52.3767), e7(4.9214)),
        )
        expect_error(
            "routes GetStop of an unknown stop",
            lambda: get_stop(stop_request("moon"), timeout=TIMEOUT),
            grpc.StatusCode.NOT_FOUND,
            'no stop with id "moon"',
        )
        expect_error(
            "routes GetStop without an id",
            lambda: get_stop(stop_request(""), timeout=TIMEOUT),
            grpc.StatusCode.INVALID_ARGUMENT,
            "stop id must not be empty",
        )

    def server_streaming():
        got = departures(list_departures(departures_request("central", 2), timeout=TIMEOUT))
        check_eq(
            "routes ListDepartures (limit 2)",
            got,
            [("12", "Harbour", 3), ("2", "Old Town", 5)],
        )
        got = departures(list_departures(departures_request("central"), timeout=TIMEOUT))
        check_eq(
            "routes ListDepartures (server default limit)",
            got,
            [("12", "Harbour", 3), ("2", "Old Town", 5), ("12", "Harbour", 15), ("N4", "Airport", 42)],
        )
        # The board at the depot fails after the first departure: one message, then UNAVAILABLE.
        received = []
        try:
            for departure in list_departures(departures_request("depot"), timeout=TIMEOUT):
                received.append(departure)
            check("routes ListDepartures mid-stream error", False, "the stream ended without error")
        except grpc.RpcError as err:
            check_eq(
                "routes ListDepartures mid-stream error: messages before it",
                departures(received),
                [("2", "Central Station", 1)],
            )
            check_eq("routes ListDepartures mid-stream error: code", err.code(), grpc.StatusCode.UNAVAILABLE)
            check_eq(
                "routes ListDepartures mid-stream error: message",
                err.details(),
                "departure board at Depot is offline",
            )
        expect_error(
            "routes ListDepartures over the limit",
            lambda: list_departures(departures_request("central", 51), timeout=TIMEOUT),
            grpc.StatusCode.OUT_OF_RANGE,
            "limit must be at most 50, got 51",
        )

    def client_streaming():
        trip = [(52.3791, 4.9003, "central"), (52.3780, 4.9100, ""), (52.3767, 4.9214, "harbour")]
        summary = record_trip(iter([point(*p) for p in trip]), timeout=TIMEOUT)
        check_eq("routes RecordTrip: point_count", summary.point_count, 3)
        check_eq("routes RecordTrip: stop_count", summary.stop_count, 2)
        expected = sum(
            haversine_m(trip[i][:2], trip[i + 1][:2]) for i in range(len(trip) - 1)
        )
        check(
            "routes RecordTrip: distance_meters",
            abs(summary.distance_meters - expected) < 1.0,
            f"expected about {expected:.1f}, got {summary.distance_meters!r}",
        )
        expect_error(
            "routes RecordTrip without points",
            lambda: record_trip(iter([]), timeout=TIMEOUT),
            grpc.StatusCode.FAILED_PRECONDITION,
            "a trip needs at least one point",
        )
        expect_error(
            "routes RecordTrip with a point without position",
            lambda: record_trip(
                iter([point(52.0, 4.0), schema.new("transit.v1.TripPoint", stop_id="central")]),
                timeout=TIMEOUT,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "point 2 has no position",
        )

    def bidi_streaming():
        # Ping-pong: each report is sent only after the answer to the previous one arrived, so
        # the server must answer while the request stream is still open.
        outbox = queue.Queue()
        responses = dispatch(iter(outbox.get, None), timeout=TIMEOUT)
        script = [
            (("bus-7", "central", -30), ("bus-7", 30, "report 1: hold 30s at central")),
            (("bus-7", "harbour", 10), ("bus-7", 0, "report 2: proceed")),
            (("tram-1", "central", 0), ("tram-1", 0, "report 1: proceed")),
        ]
        for (vehicle, stop, delay), expected in script:
            outbox.put(
                schema.new(
                    "transit.v1.VehicleReport", vehicle_id=vehicle, stop_id=stop, delay_seconds=delay
                )
            )
            answer = next(responses)
            check_eq(
                f"routes Dispatch: answer to {vehicle} at {stop}",
                (answer.vehicle_id, answer.hold_seconds, answer.note),
                expected,
            )
        outbox.put(None)
        check_eq("routes Dispatch: stream ends after the last answer", list(responses), [])
        check_eq("routes Dispatch: status", responses.code(), grpc.StatusCode.OK)

        # An invalid report ends the stream with an error after the valid answers.
        reports = [
            schema.new("transit.v1.VehicleReport", vehicle_id="bus-9", stop_id="depot"),
            schema.new("transit.v1.VehicleReport", vehicle_id="bus-9", stop_id="moon"),
        ]
        received = []
        try:
            for answer in dispatch(iter(reports), timeout=TIMEOUT):
                received.append(answer.note)
            check("routes Dispatch with an unknown stop", False, "the stream ended without error")
        except grpc.RpcError as err:
            check_eq("routes Dispatch with an unknown stop: answers before the error", received, ["report 1: proceed"])
            check_eq("routes Dispatch with an unknown stop: code", err.code(), grpc.StatusCode.NOT_FOUND)
            check_eq("routes Dispatch with an unknown stop: message", err.details(), 'no stop with id "moon"')

    run("routes unary", unary)
    run("routes server streaming", server_streaming)
    run("routes client streaming", client_streaming)
    run("routes bidi streaming", bidi_streaming)


# --- platform ----------------------------------------------------------------------------------

CATALOG = "platform.catalog.v1.CatalogService"
REFLECTION_V1_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"


def platform(channel, schema):
    from google.rpc import error_details_pb2
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )
    from grpc_status import rpc_status

    auth = [("authorization", f"Bearer {TOKEN}"), ("x-client-name", "interop")]
    get_item = schema.method(channel, CATALOG, "GetItem")
    create_item = schema.method(channel, CATALOG, "CreateItem")
    list_items = schema.method(channel, CATALOG, "ListItems")
    Item = schema.message("platform.catalog.v1.Item")

    def get_request(item_id):
        return schema.new("platform.catalog.v1.GetItemRequest", id=item_id)

    def health():
        stub = health_pb2_grpc.HealthStub(channel)
        serving = health_pb2.HealthCheckResponse.SERVING
        reply = stub.Check(health_pb2.HealthCheckRequest(service=CATALOG), timeout=TIMEOUT)
        check_eq("platform health Check of the catalog", reply.status, serving)
        expect_error(
            "platform health Check of an unknown service",
            lambda: stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=TIMEOUT),
            grpc.StatusCode.NOT_FOUND,
        )
        watch = stub.Watch(health_pb2.HealthCheckRequest(service=CATALOG), timeout=TIMEOUT)
        first = next(watch)
        watch.cancel()
        check_eq("platform health Watch of the catalog: first status", first.status, serving)

    def list_services(call):
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        (response,) = list(call(iter([request]), timeout=TIMEOUT))
        return sorted(s.name for s in response.list_services_response.service)

    def file_for_symbol(call, symbol):
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)
        (response,) = list(call(iter([request]), timeout=TIMEOUT))
        if response.HasField("error_response"):
            raise AssertionError(f"reflection error for {symbol}: {response.error_response}")
        return [
            descriptor_pb2.FileDescriptorProto.FromString(raw)
            for raw in response.file_descriptor_response.file_descriptor_proto
        ]

    def reflection(version, call):
        services = list_services(call)
        for wanted in (CATALOG, "grpc.health.v1.Health"):
            check(f"platform reflection {version}: lists {wanted}", wanted in services, f"listed: {services}")
        files = {f.name: f for f in file_for_symbol(call, CATALOG)}
        catalog_file = files.get("platform/catalog/v1/catalog.proto")
        check(
            f"platform reflection {version}: file containing {CATALOG}",
            catalog_file is not None,
            f"got files {sorted(files)}",
        )
        if catalog_file is not None:
            methods = [
                (m.name, m.client_streaming, m.server_streaming)
                for s in catalog_file.service
                if s.name == "CatalogService"
                for m in s.method
            ]
            check_eq(
                f"platform reflection {version}: catalog methods",
                methods,
                [("GetItem", False, False), ("CreateItem", False, False), ("ListItems", False, True)],
            )
        expect_missing = reflection_pb2.ServerReflectionRequest(file_containing_symbol="no.such.Symbol")
        (response,) = list(call(iter([expect_missing]), timeout=TIMEOUT))
        check_eq(
            f"platform reflection {version}: unknown symbol is NOT_FOUND",
            response.error_response.error_code,
            grpc.StatusCode.NOT_FOUND.value[0],
        )

    def reflection_v1alpha():
        reflection("v1alpha", reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo)
        # What grpcurl-like tools do: rebuild the schema from reflection alone (dependencies
        # included) and call the service with it.
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        request_type = pool.FindMessageTypeByName("platform.catalog.v1.GetItemRequest")
        response_type = pool.FindMessageTypeByName("platform.catalog.v1.GetItemResponse")
        call = channel.unary_unary(
            f"/{CATALOG}/GetItem",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=message_factory.GetMessageClass(response_type).FromString,
        )
        reply = call(
            message_factory.GetMessageClass(request_type)(id="sku-300"), metadata=auth, timeout=TIMEOUT
        )
        check_eq("platform GetItem with the schema from reflection: name", reply.item.name, "Bean of the month")
        check_eq(
            "platform GetItem with the schema from reflection: price currency",
            reply.item.price.currency_code,
            "EUR",
        )

    def reflection_v1():
        # grpcio-reflection ships the v1alpha messages only; v1 has the same wire format.
        call = channel.stream_stream(
            REFLECTION_V1_METHOD,
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        reflection("v1", call)

    def get():
        reply, call = get_item.with_call(
            get_request("sku-100"),
            metadata=auth + [("x-request-id", "req-42"), ("x-trace-bin", b"\x00\x01\xfe\xff")],
            timeout=TIMEOUT,
        )
        item = reply.item
        check_eq("platform GetItem: id and name", (item.id, item.name), ("sku-100", "Espresso machine"))
        check_eq("platform GetItem: kind", item.kind, schema.pool.FindEnumTypeByName("platform.catalog.v1.ItemKind").values_by_name["ITEM_KIND_PHYSICAL"].number)
        check_eq("platform GetItem: availability", item.availability, Item.Availability.Value("AVAILABILITY_IN_STOCK"))
        check_eq("platform GetItem: price", (item.price.currency_code, item.price.units, item.price.nanos), ("EUR", 349, 0))
        check_eq("platform GetItem: labels", dict(item.labels), {"team": "kitchen", "tier": "premium"})
        check_eq("platform GetItem: optional description", (item.HasField("description"), item.description), (True, "Dual boiler, 58 mm portafilter"))
        check_eq("platform GetItem: optional stock", (item.HasField("stock"), item.stock), (True, 12))
        check_eq("platform GetItem: created_at", item.created_at.seconds, 1_700_000_000)
        check_eq("platform GetItem: tags", list(item.tags), ["coffee", "appliance"])
        check_eq("platform GetItem: oneof delivery", item.WhichOneof("delivery"), "shipping")
        check_eq("platform GetItem: shipping", (item.shipping.weight_grams, dict(item.shipping.hints)), (21_000, {"fragile": "yes"}))
        headers = dict(call.initial_metadata())
        check_eq("platform GetItem: x-request-id echoed", headers.get("x-request-id"), "req-42")
        check_eq("platform GetItem: x-trace-bin echoed", headers.get("x-trace-bin"), b"\x00\x01\xfe\xff")
        check_eq("platform GetItem: x-served-by", headers.get("x-served-by"), "catalog")

        digital = get_item(get_request("sku-200"), metadata=auth, timeout=TIMEOUT).item
        check_eq("platform GetItem sku-200: unset optional stock", digital.HasField("stock"), False)
        check_eq("platform GetItem sku-200: oneof delivery", (digital.WhichOneof("delivery"), digital.download_url), ("download_url", "https://downloads.example.invalid/latte.epub"))
        check_eq("platform GetItem sku-200: price", (digital.price.units, digital.price.nanos), (9, 990_000_000))

        err = expect_error(
            "platform GetItem of a missing item",
            lambda: get_item(get_request("nope"), metadata=auth + [("x-request-id", "req-43")], timeout=TIMEOUT),
            grpc.StatusCode.NOT_FOUND,
            "item nope not found",
        )
        if err is not None:
            check_eq("platform GetItem of a missing item: x-request-id echoed", dict(err.trailing_metadata()).get("x-request-id"), "req-43")
            status = rpc_status.from_call(err)
            infos = []
            for detail in status.details if status else []:
                info = error_details_pb2.ResourceInfo()
                if detail.Unpack(info):
                    infos.append((info.resource_type, info.resource_name, info.owner, info.description))
            check_eq(
                "platform GetItem of a missing item: ResourceInfo detail",
                infos,
                [("platform.catalog.v1.Item", "nope", "interop", "the item does not exist or was deleted")],
            )

    def auth_errors():
        expect_error(
            "platform GetItem without a token",
            lambda: get_item(get_request("sku-100"), timeout=TIMEOUT),
            grpc.StatusCode.UNAUTHENTICATED,
            "missing bearer token",
        )
        expect_error(
            "platform GetItem with a wrong token",
            lambda: get_item(get_request("sku-100"), metadata=[("authorization", "Bearer guess")], timeout=TIMEOUT),
            grpc.StatusCode.UNAUTHENTICATED,
            "invalid bearer token",
        )
        expect_error(
            "platform ListItems without a token",
            lambda: list_items(schema.new("platform.catalog.v1.ListItemsRequest"), timeout=TIMEOUT),
            grpc.StatusCode.UNAUTHENTICATED,
            "missing bearer token",
        )

    def listing():
        def ids(**fields):
            request = schema.new("platform.catalog.v1.ListItemsRequest", **fields)
            return [item.id for item in list_items(request, metadata=auth, timeout=TIMEOUT)]

        check_eq("platform ListItems: everything, in id order", ids(), ["sku-100", "sku-200", "sku-300"])
        check_eq("platform ListItems: by kind", ids(kind=2), ["sku-200"])
        check_eq("platform ListItems: by label, limit 1", ids(label_selector={"team": "kitchen"}, limit=1), ["sku-100"])
        expect_error(
            "platform ListItems with limit 0",
            lambda: list_items(schema.new("platform.catalog.v1.ListItemsRequest", limit=0), metadata=auth, timeout=TIMEOUT),
            grpc.StatusCode.INVALID_ARGUMENT,
            "limit must be positive when set",
        )

    def create():
        err = expect_error(
            "platform CreateItem of an invalid item",
            lambda: create_item(
                schema.new("platform.catalog.v1.CreateItemRequest", item=Item(name=" ")), metadata=auth, timeout=TIMEOUT
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "item is invalid",
        )
        if err is not None:
            status = rpc_status.from_call(err)
            fields = []
            for detail in status.details if status else []:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    fields += [v.field for v in bad.field_violations]
            check_eq("platform CreateItem of an invalid item: BadRequest fields", fields, ["item.name", "item.kind", "item.price"])

        new = Item(
            name="Grinder",
            kind=1,
            price=schema.new("platform.common.v1.Money", currency_code="EUR", units=120),
            stock=0,
        )
        created = create_item(
            schema.new("platform.catalog.v1.CreateItemRequest", item=new), metadata=auth, timeout=TIMEOUT
        ).item
        check("platform CreateItem: id assigned", created.id.startswith("sku-") and created.id not in ("sku-100", "sku-200", "sku-300"), f"got id {created.id!r}")
        check("platform CreateItem: created_at set", created.created_at.seconds > 1_700_000_000, f"got {created.created_at}")
        check_eq("platform CreateItem: availability from stock 0", created.availability, Item.Availability.Value("AVAILABILITY_BACKORDER"))
        fetched = get_item(get_request(created.id), metadata=auth, timeout=TIMEOUT).item
        check_eq("platform CreateItem: the item can be fetched", (fetched.name, fetched.price.units), ("Grinder", 120))

    run("platform health", health)
    run("platform reflection v1alpha", reflection_v1alpha)
    run("platform reflection v1", reflection_v1)
    run("platform GetItem", get)
    run("platform auth", auth_errors)
    run("platform ListItems", listing)
    run("platform CreateItem", create)


SCENARIOS = {"greeter": greeter, "routes": routes, "platform": platform}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in SCENARIOS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(SCENARIOS)}}} <host:port> <descriptor-set>")
    scenario, address, descriptors = sys.argv[1:]
    schema = Schema(descriptors)
    with grpc.insecure_channel(address) as channel:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
        SCENARIOS[scenario](channel, schema)
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
