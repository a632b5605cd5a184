package domain

import "errors"

// OutboxMessage is one event waiting in the outbox: written in the same
// transaction as the change it records, and published by the relay in
// sequence order.
type OutboxMessage struct {
	Seq         int64
	EventID     string
	WorkspaceID string
	Payload     []byte
}

// ErrLeadLost is returned by an outbox when this process no longer holds
// the relay's lead; the relay then gives the lead up and waits to take it
// again.
var ErrLeadLost = errors.New("relay: the lead was lost")
