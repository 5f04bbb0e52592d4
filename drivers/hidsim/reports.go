package hidsim

import (
	"sync"

	"github.com/drvsim/drvsim/drivers/usbsim"
)

// Reports is a HID device model: interrupt-in transfers answer the
// reports pushed to it, one per transfer, and NAK while none is queued.
// Control transfers succeed.
type Reports struct {
	mu sync.Mutex
	q  [][]byte
}

// Push queues a report, the device's next interrupt-in data.
func (r *Reports) Push(report []byte) {
	r.mu.Lock()
	r.q = append(r.q, append([]byte(nil), report...))
	r.mu.Unlock()
}

// Transfer implements usbsim.Function.
func (r *Reports) Transfer(t *usbsim.Transfer) bool {
	if t.Endpoint.Type == usbsim.Control {
		return true
	}
	if !t.Endpoint.IsIntIn() {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.q) == 0 {
		return false
	}
	t.Actual = copy(t.Data, r.q[0])
	r.q = r.q[1:]
	return true
}
