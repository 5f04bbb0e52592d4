package chardev_test

import (
	"testing"

	"github.com/drvsim/drvsim/drivers/usbsim/chardev"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestRegistryLifecycle(t *testing.T) {
	e := env.New()
	log := e.Log()
	r := chardev.NewRegistry(e, "usb", 192, 2)
	released := 0
	ops := &chardev.Operations{
		Open:    func(f *chardev.File) error { f.Private = "state"; return nil },
		Read:    func(f *chardev.File, n int) ([]byte, error) { return []byte(f.Private.(string))[:n], nil },
		Release: func(*chardev.File) error { released++; return nil },
	}
	m0, err := r.Register("skel%d", ops, "data0")
	require.NoError(t, err)
	assert.Equal(t, 192, m0)
	m1, err := r.Register("skel%d", ops, nil)
	require.NoError(t, err)
	assert.Equal(t, 193, m1)
	_, err = r.Register("skel%d", ops, nil)
	assert.ErrorIs(t, err, chardev.ErrExFull)
	assert.Equal(t, "data0", r.Data(192))

	f, err := r.Open(192)
	require.NoError(t, err)
	assert.Equal(t, "skel0", f.Name())
	b, err := f.Read(3)
	require.NoError(t, err)
	assert.Equal(t, "sta", string(b))
	_, err = f.Write(nil)
	assert.ErrorIs(t, err, chardev.ErrNotSupported)

	r.Deregister(192)
	_, err = r.Open(192)
	assert.ErrorIs(t, err, chardev.ErrNoDevice)
	// the open file keeps its operations and data
	_, err = f.Read(5)
	require.NoError(t, err)
	require.NoError(t, f.Release())
	assert.Equal(t, 1, released)
	assert.ErrorIs(t, f.Release(), chardev.ErrBadFD)
	_, err = f.Read(1)
	assert.ErrorIs(t, err, chardev.ErrBadFD)

	m, err := r.Register("skel%d", ops, nil)
	require.NoError(t, err)
	assert.Equal(t, 192, m, "the freed minor is reused")
	assert.Equal(t, []string{
		"usb_register_dev /dev/usb: skel0: minor 192",
		"usb_register_dev /dev/usb: skel1: minor 193",
		"usb_register_dev /dev/usb: skel%d: no free minor: -EXFULL",
		"chrdev_open /dev/usb: skel0: 0",
		"vfs_read /dev/usb: skel0: 3 bytes",
		"usb_deregister_dev /dev/usb: skel0: minor 192",
		"chrdev_open /dev/usb: minor 192: -ENODEV",
		"vfs_read /dev/usb: skel0: 5 bytes",
		"__fput /dev/usb: skel0: release 0",
		"usb_register_dev /dev/usb: skel0: minor 192",
	}, trace.Shorts(log.Events()))
}

func TestOpenFailure(t *testing.T) {
	r := chardev.NewRegistry(env.New(), "usb", 0, 1)
	_, err := r.Register("x%d", &chardev.Operations{Open: func(*chardev.File) error { return chardev.ErrNoDevice }}, nil)
	require.NoError(t, err)
	_, err = r.Open(0)
	assert.ErrorIs(t, err, chardev.ErrNoDevice)
}
