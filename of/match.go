package of

import (
	"math"
	"strings"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
)

// Compatible returns the node's compatible list, nil when it has none.
func (n *Node) Compatible() []string {
	list, err := n.ReadStrings("compatible")
	if err != nil {
		return nil
	}
	return list
}

// Score is __of_device_is_compatible: how well the node matches a
// (compatible, type, name) triple, 0 for not at all. A compatible found
// at index i of the node's list (compared without regard to case) scores
// INT_MAX/2 - 4i, so the node's first, most specific string wins; a
// device_type that matches adds 2 and a name that matches adds 1; a
// constraint given and not met makes it 0.
func (n *Node) Score(compat, typ, name string) int {
	score := 0
	if compat != "" {
		for i, c := range n.Compatible() {
			if strings.EqualFold(c, compat) {
				score = math.MaxInt32/2 - i<<2
				break
			}
		}
		if score == 0 {
			return 0
		}
	}
	if typ != "" {
		t, err := n.ReadString("device_type")
		if err != nil || !strings.EqualFold(t, typ) {
			return 0
		}
		score += 2
	}
	if name != "" {
		if n.BaseName() != name {
			return 0
		}
		score++
	}
	return score
}

// IsCompatible is of_device_is_compatible: the node's compatible list
// holds compat.
func (n *Node) IsCompatible(compat string) bool { return n.Score(compat, "", "") > 0 }

// MatchNode is of_match_node (__of_match_node): the entry of table that
// scores best for the node, the earlier one on a tie; ok is false when
// none scores.
func MatchNode(table []driver.OFDeviceID, n *Node) (best driver.OFDeviceID, ok bool) {
	if n == nil {
		return best, false
	}
	bestScore := 0
	for _, id := range table {
		if id.Compatible == "" && id.Type == "" && id.Name == "" {
			break // the table's terminating entry
		}
		if s := n.Score(id.Compatible, id.Type, id.Name); s > bestScore {
			best, bestScore = id, s
		}
	}
	return best, bestScore > 0
}

// MatchDevice is of_match_device: MatchNode on dev's node; ok is false
// for a device without a node.
func MatchDevice(table []driver.OFDeviceID, dev *device.Device) (driver.OFDeviceID, bool) {
	return MatchNode(table, NodeOf(dev))
}

// DriverMatchDevice is of_driver_match_device: whether drv's
// OFMatchTable matches dev's node (what platform_match asks first).
func DriverMatchDevice(dev *device.Device, drv *driver.Driver) bool {
	_, ok := MatchDevice(drv.OFMatchTable, dev)
	return ok
}

// DeviceGetMatchData is of_device_get_match_data: the Data of the entry of
// the bound driver's OFMatchTable that matches dev best, nil when there is
// no driver, no node or no match. A driver calls it from probe, when
// dev->driver is set.
func DeviceGetMatchData(dev *device.Device) any {
	drv, _ := dev.Driver().(*driver.Driver)
	if drv == nil {
		return nil
	}
	id, ok := MatchDevice(drv.OFMatchTable, dev)
	if !ok {
		return nil
	}
	return id.Data
}
