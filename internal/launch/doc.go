// Package launch supervises the daemons `make run` starts on one machine:
// it starts each as a child process with its own log file, waits for it to
// listen, and stops every process it started, by PID, when asked or when it
// dies. It also holds what `hcnet run` leaves for other commands (the
// state file) and decides which Debian packages the local chassis need.
// It knows the daemons only as argv; what to start is decided by
// cmd/hcnet. It must not import the daemons' packages.
package launch
