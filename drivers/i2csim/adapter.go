package i2csim

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/kernel"
)

// MaxAdapters bounds the adapter numbers, as the kernel's idr of adapters
// does in practice (I2C_MINORS for /dev/i2c-N).
const MaxAdapters = 256

// Adapter is struct i2c_adapter: one I2C bus segment, a device "i2c-N" of
// the i2c bus, and the chips wired to it (the hardware).
type Adapter struct {
	i        *I2C
	dev      *device.Device
	nr       int
	name     string
	released *kernel.Completion // dev_released

	mu    sync.Mutex
	chips map[uint16]Chip
}

// AddAdapter is i2c_add_adapter: an adapter named name (its "name"
// attribute) with the next free number, below parent (the controller; may
// be nil), registered as device "i2c-N" of the i2c bus. Bus notifiers see
// BUS_NOTIFY_ADD_DEVICE for it.
func (i *I2C) AddAdapter(parent *device.Device, name string) (*Adapter, error) {
	i.mu.Lock()
	nr := i.nextNr
	if nr >= MaxAdapters {
		i.mu.Unlock()
		return nil, fmt.Errorf("i2c_add_adapter %s: no adapter number left: %w", name, ErrBusy)
	}
	i.nextNr++
	i.mu.Unlock()
	a := &Adapter{i: i, nr: nr, name: name, chips: map[uint16]Chip{}}
	a.released = kernel.NewCompletion(i.core, fmt.Sprintf("i2c-%d dev_released", nr))
	opts := []device.Option{device.WithBus(i.bus), device.WithRelease(a.release)}
	if parent != nil {
		opts = append(opts, device.WithParent(parent))
	}
	a.dev = device.New(fmt.Sprintf("i2c-%d", nr), opts...)
	a.dev.SetAttr("name", name)
	i.mu.Lock()
	i.adapters[a.dev] = a
	i.mu.Unlock()
	if err := i.core.RegisterDevice(a.dev); err != nil {
		i.mu.Lock()
		delete(i.adapters, a.dev)
		i.mu.Unlock()
		_ = a.dev.Put()
		return nil, fmt.Errorf("i2c_add_adapter %s: %w", name, err)
	}
	i.emit(a.dev.Path(), "i2c_register_adapter", fmt.Sprintf("adapter [%s] registered", name))
	return a, nil
}

// release is i2c_adapter_dev_release: the last reference completes
// dev_released, which i2c_del_adapter waits for.
func (a *Adapter) release(*device.Device) {
	a.i.emit(a.dev.Path(), "i2c_adapter_dev_release", "")
	a.i.mu.Lock()
	delete(a.i.adapters, a.dev)
	a.i.mu.Unlock()
	a.released.Complete()
}

// Dev returns the adapter's device (&adap->dev).
func (a *Adapter) Dev() *device.Device { return a.dev }

// Nr returns the adapter's number (adap->nr): it is /dev/i2c-Nr.
func (a *Adapter) Nr() int { return a.nr }

// Name returns the adapter's name.
func (a *Adapter) Name() string { return a.name }

// Path returns the adapter's sysfs path.
func (a *Adapter) Path() string { return a.dev.Path() }

// Del is i2c_del_adapter: the clients on the adapter are unregistered
// (i2c_unregister_device), the adapter device is unregistered (bus
// notifiers see BUS_NOTIFY_DEL_DEVICE), and the call waits until the last
// reference to the adapter is gone (wait_for_completion of dev_released):
// every i2c_get_adapter must have been put.
func (a *Adapter) Del() {
	i := a.i
	i.emit(a.dev.Path(), "i2c_del_adapter", fmt.Sprintf("adapter [%s] unregistering", a.name))
	for _, child := range a.dev.Children() {
		if c := i.ClientOf(child); c != nil {
			c.Unregister()
		}
	}
	if err := i.core.UnregisterDevice(a.dev); err != nil {
		i.emit(a.dev.Path(), "i2c_del_adapter", "device_unregister: "+device.ErrnoName(err))
	}
	a.released.Wait()
	i.emit("", "i2c_del_adapter", fmt.Sprintf("adapter [%s] gone", a.name))
}

// GetAdapter is i2c_get_adapter: the registered adapter numbered nr with a
// reference taken on it (get_device), or nil.
func (i *I2C) GetAdapter(nr int) *Adapter {
	i.mu.Lock()
	var found *Adapter
	for dev, a := range i.adapters {
		if a.nr == nr && dev.IsRegistered() {
			found = a
			break
		}
	}
	i.mu.Unlock()
	if found == nil {
		return nil
	}
	found.dev.Get()
	return found
}

// Put is i2c_put_adapter: drop the reference GetAdapter took.
func (a *Adapter) Put() {
	if a != nil {
		_ = a.dev.Put()
	}
}
