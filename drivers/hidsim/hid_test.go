package hidsim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/hidsim"
	"github.com/drvsim/drvsim/drivers/inputsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/internal/raceexit"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func remote(fn usbsim.Function) *usbsim.Gadget {
	return &usbsim.Gadget{
		Desc: usbsim.DeviceDescriptor{VendorID: 0x05ac, ProductID: 0x8240},
		Config: usbsim.ConfigDescriptor{Value: 1, Interfaces: []usbsim.InterfaceDescriptor{{Class: 3,
			Endpoints: []usbsim.EndpointDescriptor{{Address: usbsim.DirIn | 2, Type: usbsim.Interrupt, MaxPacket: 5}}}}},
		Function: fn,
	}
}

// usbhid adds a hid_device for a HID interface; the driver matching its
// ids probes it, starting the hardware: an input device is registered and
// reports reach raw_event, except while driver_input_lock is held (in
// probe: -EBUSY); unbinding the driver stops the hardware, freeing the
// input device, and the hid_device stays for the next driver.
func TestUSBHIDReportsReachRawEvent(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	u, err := usbsim.Init(sys)
	require.NoError(t, err)
	hcd, err := u.AddHCD(2)
	require.NoError(t, err)
	h, err := hidsim.Init(u)
	require.NoError(t, err)
	var got [][]byte
	var input *inputsim.Dev
	var probeReport error
	drv := &hidsim.Driver{Name: "appleir", IDTable: []hidsim.DeviceID{hidsim.USBDevice(0x05ac, 0x8240)},
		Probe: func(hd *hidsim.Device, _ hidsim.DeviceID) error {
			probeReport = hd.InputReport([]byte{1})
			if err := hd.Parse(); err != nil {
				return err
			}
			return hd.HWStart(hidsim.ConnectDefault)
		},
		RawEvent: func(_ *hidsim.Device, data []byte) int {
			got = append(got, data)
			return 0
		},
		InputConfigured: func(_ *hidsim.Device, in *inputsim.Dev) error {
			input = in
			return nil
		},
	}
	require.NoError(t, h.RegisterDriver(drv))
	assert.ErrorIs(t, h.RegisterDriver(drv), hidsim.ErrBusy)
	reports := &hidsim.Reports{}
	udev, err := hcd.RootHub().Plug(1, remote(reports))
	require.NoError(t, err)
	assert.ErrorIs(t, probeReport, hidsim.ErrBusy, "driver_input_lock is held during probe")
	require.NotNil(t, input)
	hdev := sys.FindDevice(hidsim.BusName, "0003:05AC:8240.0001")
	require.NotNil(t, hdev)
	assert.Equal(t, "appleir", hdev.DriverName())

	reports.Push([]byte{0x25, 0x87, 0xee, 0x00, 0x0a})
	udev.Kick()
	assert.Equal(t, 1, hcd.Flush())
	assert.Equal(t, [][]byte{{0x25, 0x87, 0xee, 0x00, 0x0a}}, got)

	require.NoError(t, h.UnregisterDriver(drv))
	assert.True(t, input.Object().Freed(), "hid_hw_stop unregistered the input device")
	assert.Empty(t, hdev.DriverName())
	reports.Push([]byte{0x26, 0, 0, 0, 0})
	udev.Kick()
	assert.Equal(t, 0, hcd.Flush(), "the URB was killed")
	assert.Len(t, got, 1)
	assert.Empty(t, sys.Memory().Reports())
	assert.Empty(t, sys.Memory().Leaks())
}
