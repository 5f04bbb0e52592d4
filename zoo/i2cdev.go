package zoo

import (
	"errors"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/i2csim"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/i2cdev"
)

func i2cdevCdev() *Bug {
	b := &Bug{
		Name:      "i2cdev-cdev",
		Subsystem: "I2C, i2c-dev character device",
		Commit:    "1413ef638abae4ab5621901cf4d8ef08a4a48ba6",
		Subject:   "i2c: dev: Fix the race between the release of i2c_dev and cdev",
		Author:    "Kevin Hao, 2019-10",
		Report: "struct i2c_dev freed while its embedded cdev was still live, caught by " +
			"CONFIG_DEBUG_OBJECTS_FREE and CONFIG_DEBUG_KOBJECT_RELEASE (\"ODEBUG: free active " +
			"object\" from put_i2c_dev); with a file open, a use-after-free at its last fput's cdev_put.",
		Race: "T1 has /dev/i2c-0 open | T2 i2c_del_adapter: the bus notifier's " +
			"i2cdev_detach_adapter does cdev_del and kfree(i2c_dev), then waits for the adapter's " +
			"last reference | T1 closes: i2cdev_release drops the adapter (T2 goes on), then __fput's " +
			"cdev_put drops the cdev reference inside the freed struct.",
		Fix: "struct i2c_dev embeds a struct device; cdev_device_add makes the cdev hold it; " +
			"put_i2c_dev does cdev_device_del and put_device, and the device's release " +
			"(i2cdev_dev_release) frees the struct after the last cdev reference.",
	}
	pair(b, "i2c-dev", [2]string{
		"An application has /dev/i2c-0 open while its adapter is deleted: i2c-dev frees the struct " +
			"embedding the cdev, and the file's last fput drops its cdev reference in freed memory.",
		"The same race with the fix: the struct lives until the release of the device the cdev " +
			"holds; every schedule closes cleanly.",
	}, sim.BugUseAfterFree, i2cdevRun)
	return b
}

// i2cdevRun is one run: I2C adapter i2c-0 with i2c-dev loaded and
// /dev/i2c-0 open. Task "app": an I2C_SLAVE ioctl, then close. Task
// "rmmod": the adapter's controller goes (i2c_del_adapter).
func i2cdevRun(s *sim.Sim, sys *drvsim.System, fixed bool) {
	i2c, err := i2csim.Init(sys)
	must(err)
	adap, err := i2c.AddAdapter(nil, "sim-i2c")
	must(err)
	v := i2cdev.Before
	if fixed {
		v = i2cdev.After
	}
	_, err = i2cdev.Init(i2c, v)
	must(err)
	f, err := chardev.Open(sys, "/dev/i2c-0")
	must(err)
	s.Go("app", func() {
		if _, err := f.Ioctl(i2cdev.IoctlSlave, 0x50); err != nil && !errors.Is(err, chardev.ErrNoDevice) {
			panic(err)
		}
		must(f.Close())
	})
	s.Go("rmmod", func() { adap.Del() })
}
