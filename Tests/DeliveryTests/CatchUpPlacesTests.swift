import Testing
import WebhookDomain

@testable import Delivery

/// Which of a webhook's catch-ups read: a free place goes to the one furthest behind.
@Suite("Catch-up places")
struct CatchUpPlacesTests {
    static func partition(_ number: Int32) -> SourcePartition { SourcePartition("oms.orders", number) }

    /// The tickets among `tickets` that were given a place (each taken).
    static func taken(_ places: inout CatchUpPlaces, _ tickets: [Int]) -> [Int] { tickets.filter { places.take($0) } }

    @Test("places go to the partitions furthest behind, the earlier among equals; a partition is read by one catch-up at a time")
    func furthestBehindFirst() {
        var places = CatchUpPlaces(capacity: 2)
        let first = places.ask(Self.partition(0), behind: 5)
        let second = places.ask(Self.partition(1), behind: 5)
        #expect(Self.taken(&places, [first, second]) == [first, second])
        let near = places.ask(Self.partition(2), behind: 10)
        let far = places.ask(Self.partition(3), behind: 500)
        let farToo = places.ask(Self.partition(4), behind: 500)
        // A superseded catch-up of partition 0 has not closed yet: its successor waits for it.
        let successor = places.ask(Self.partition(0), behind: 1_000)
        let all = [near, far, farToo, successor]
        #expect(Self.taken(&places, all).isEmpty)
        places.close(Self.partition(1))
        #expect(Self.taken(&places, all) == [far], "furthest behind, asked first")
        places.close(Self.partition(0))
        #expect(Self.taken(&places, all) == [successor], "its partition is free now, and it is furthest behind")
        places.close(Self.partition(3))
        #expect(Self.taken(&places, all) == [farToo])
        places.close(Self.partition(0))
        #expect(Self.taken(&places, all) == [near])
        #expect(places.open == [Self.partition(4), Self.partition(2)])
    }

    @Test("a catch-up that stops waiting gives back its ticket, or the place it was given")
    func withdrawn() {
        var places = CatchUpPlaces(capacity: 1)
        let reading = places.ask(Self.partition(0), behind: 1)
        let given = places.ask(Self.partition(1), behind: 9)
        let waiting = places.ask(Self.partition(2), behind: 3)
        #expect(Self.taken(&places, [reading]) == [reading])
        places.withdraw(waiting)
        places.close(Self.partition(0))
        // Given to partition 1, which stops waiting before it takes it: the place is free again.
        places.withdraw(given)
        #expect(places.isEmpty)
        let later = places.ask(Self.partition(3), behind: 0)
        #expect(Self.taken(&places, [later]) == [later])
    }
}
