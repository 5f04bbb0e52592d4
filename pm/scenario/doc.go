// Package scenario holds the power-management races the explorer checks,
// each a sim.Scenario with its predicted outcome (Scenarios; package
// scenarios registers them): runtime resume racing a USB unplug, a system
// suspend racing an asynchronous probe, an ioctl racing runtime suspend
// (with a driver that holds the device and one that does not), the
// autosuspend timer firing during a disconnect, and a system resume
// racing the device's unplug. Every run builds its machine on the Sim it
// is given and ends with a check that the machine is consistent; the
// passing runs are counted by the way they ended.
package scenario
