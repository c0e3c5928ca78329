package sbc

import "github.com/natsbc/natsbc/ingress"

// Reject is a status natsbc answers a request with instead of relaying
// it: the ingress guard's verdict type, which the signalling core uses
// for its own refusals (404, 480, 503...) too.
type Reject = ingress.Reject
