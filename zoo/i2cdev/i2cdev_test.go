package i2cdev_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/i2csim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/zoo/i2cdev"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// Both versions give every adapter a /dev/i2c-N, registered before or
// after i2c-dev loads, answer their ioctls, and go cleanly when no file
// is open; with a file open while the adapter goes, the old one frees the
// struct the file's cdev lives in (KASAN at the close), the fixed one
// frees it after the close.
func TestAdapterNodes(t *testing.T) {
	for _, v := range []i2cdev.Variant{i2cdev.Before, i2cdev.After} {
		sys := drvsim.NewSystem()
		i2c, err := i2csim.Init(sys)
		require.NoError(t, err)
		a0, err := i2c.AddAdapter(nil, "early")
		require.NoError(t, err)
		m, err := i2cdev.Init(i2c, v)
		require.NoError(t, err)
		a1, err := i2c.AddAdapter(nil, "late")
		require.NoError(t, err)

		f, err := chardev.Open(sys, "/dev/i2c-1")
		require.NoError(t, err)
		_, err = f.Ioctl(i2cdev.IoctlSlave, 0x50)
		require.NoError(t, err)
		_, err = f.Ioctl(i2cdev.IoctlSlave, 0x80)
		assert.ErrorIs(t, err, chardev.ErrInvalid)
		funcs, err := f.Ioctl(i2cdev.IoctlFuncs, nil)
		require.NoError(t, err)
		assert.NotZero(t, funcs)
		_, err = f.Ioctl(0x1234, nil)
		assert.ErrorIs(t, err, chardev.ErrNoTTY)
		require.NoError(t, f.Close())
		a1.Del()
		_, err = chardev.Open(sys, "/dev/i2c-1")
		assert.ErrorIs(t, err, chardev.ErrNoEntry)
		assert.Empty(t, sys.Memory().Reports(), "variant %d", v)

		f, err = chardev.Open(sys, "/dev/i2c-0")
		require.NoError(t, err)
		done := make(chan struct{})
		go func() { a0.Del(); close(done) }() // waits for the file's adapter reference
		for sys.FindDevice(i2csim.BusName, "i2c-0") != nil {
			runtime.Gosched()
		}
		require.NoError(t, f.Close())
		<-done
		if v == i2cdev.Before {
			reports := sys.Memory().Reports()
			require.Len(t, reports, 1)
			assert.Equal(t, "BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)", reports[0].Title)
		} else {
			assert.Empty(t, sys.Memory().Reports())
		}
		assert.Empty(t, sys.Memory().Leaks())
		m.Exit()
		sys.Close()
	}
}
