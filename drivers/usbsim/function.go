package usbsim

import "sync"

// Transfer is one transfer as the device sees it: the device model's view
// of an URB at the head of an endpoint's queue.
type Transfer struct {
	// Endpoint is the endpoint addressed.
	Endpoint EndpointDescriptor
	// Data is what the host sends (OUT) or the buffer to fill (IN), sized
	// to the URB's transfer length.
	Data []byte
	// Actual is the number of bytes transferred (urb->actual_length); the
	// model sets it.
	Actual int
	// Status is the transfer's status (nil for success, ErrPipe for a
	// stall, ErrProto for a transfer error); the model sets it.
	Status error
}

// Function is a simulated device's behaviour: the firmware behind the
// descriptors. Transfer is offered the URB at the head of an endpoint's
// queue and reports whether the device answered; false is a NAK and the URB
// stays queued until the device model is offered it again (at the next
// submission to the device, or Device.Kick). Transfer runs with the USB
// core's lock held: it must not block nor call back into usbsim.
type Function interface {
	Transfer(t *Transfer) bool
}

// FunctionFunc adapts a function to Function.
type FunctionFunc func(t *Transfer) bool

// Transfer calls f(t).
func (f FunctionFunc) Transfer(t *Transfer) bool { return f(t) }

// Loopback is a device model with a bulk loopback endpoint pair, like the
// gadget zero "loopback" configuration: bytes written to any OUT endpoint
// are queued, and a bulk IN transfer returns them, NAKing while nothing is
// queued. Interrupt IN endpoints NAK forever (an interrupt that never
// comes). Control transfers succeed with no data.
type Loopback struct {
	mu   sync.Mutex
	fifo []byte
	cap  int
}

// NewLoopback returns a loopback model that queues at most capacity bytes
// (0: unbounded); an OUT transfer that does not fit is NAKed.
func NewLoopback(capacity int) *Loopback { return &Loopback{cap: capacity} }

// Feed queues data as if it had been written to the OUT endpoint: the
// device "has data".
func (l *Loopback) Feed(data []byte) {
	l.mu.Lock()
	l.fifo = append(l.fifo, data...)
	l.mu.Unlock()
}

// Queued returns how many bytes wait to be read.
func (l *Loopback) Queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.fifo)
}

// Transfer implements Function.
func (l *Loopback) Transfer(t *Transfer) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case t.Endpoint.Type == Control:
		return true
	case !t.Endpoint.In():
		if l.cap > 0 && len(l.fifo)+len(t.Data) > l.cap {
			return false
		}
		l.fifo = append(l.fifo, t.Data...)
		t.Actual = len(t.Data)
		return true
	case t.Endpoint.Type == Bulk:
		if len(l.fifo) == 0 {
			return false
		}
		n := copy(t.Data, l.fifo)
		l.fifo = l.fifo[n:]
		t.Actual = n
		return true
	}
	return false
}

// Counter is a device model with one register: every IN transfer returns
// the register's value as one byte and increments it; an OUT transfer
// sets it from its first byte. It always answers.
type Counter struct {
	mu sync.Mutex
	v  byte
}

// Value returns the register.
func (c *Counter) Value() byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v
}

// Transfer implements Function.
func (c *Counter) Transfer(t *Transfer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case t.Endpoint.Type == Control:
	case t.Endpoint.In():
		if len(t.Data) > 0 {
			t.Data[0] = c.v
			t.Actual = 1
			c.v++
		}
	default:
		if len(t.Data) > 0 {
			c.v = t.Data[0]
		}
		t.Actual = len(t.Data)
	}
	return true
}
