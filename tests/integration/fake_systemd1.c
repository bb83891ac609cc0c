/* SPDX-License-Identifier: ISC */
/*
 * fake_systemd1.c - a stand-in for systemd on a private D-Bus bus, for
 * test_watch_unit_fakebus.sh (systemd is not PID 1 where the tests run).
 *
 * It owns org.freedesktop.systemd1 on the bus of $DBUS_SYSTEM_BUS_ADDRESS and
 * serves what the agent's watch_unit uses: Manager.Subscribe() at
 * /org/freedesktop/systemd1, and for every unit object under
 * /org/freedesktop/systemd1/unit/ the properties ActiveState, SubState and
 * LoadState of org.freedesktop.systemd1.Unit (Get, GetAll; PropertiesChanged
 * with the values, as systemd emits them). Units it was not told about are
 * "not-found", "inactive", "dead", as systemd answers for a unit it cannot load.
 *
 * Commands on stdin, one a line; "ok" on stdout after each:
 *   set UNIT ACTIVE SUB   change a unit and emit PropertiesChanged
 *   spoof UNIT ACTIVE SUB the same signal from another connection (not the name's owner)
 *   subscribers           print how many Subscribe() calls it has had
 *   quit
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#define UNIT_PREFIX "/org/freedesktop/systemd1/unit"
#define UNIT_IFACE  "org.freedesktop.systemd1.Unit"

struct unit {
	char name[128], active[32], sub[32], load[32];
};

static struct unit units[1024];
static size_t nunits;
static unsigned subscribers;

static struct unit *unit_get(const char *name, int create)
{
	for (size_t i = 0; i < nunits; i++)
		if (strcmp(units[i].name, name) == 0)
			return &units[i];
	if (!create || nunits == sizeof(units) / sizeof(units[0]))
		return NULL;
	snprintf(units[nunits].name, sizeof(units[0].name), "%s", name);
	return &units[nunits++];
}

static int prop_get(sd_bus *bus, const char *path, const char *iface, const char *prop,
                    sd_bus_message *reply, void *data, sd_bus_error *err)
{
	char *name = NULL;
	const struct unit *u;
	const char *v;
	int r = sd_bus_path_decode(path, UNIT_PREFIX, &name);

	if (r <= 0)
		return -EINVAL;
	u = unit_get(name, 0);
	free(name);
	if (strcmp(prop, "ActiveState") == 0)
		v = u ? u->active : "inactive";
	else if (strcmp(prop, "SubState") == 0)
		v = u ? u->sub : "dead";
	else
		v = u ? u->load : "not-found";
	return sd_bus_message_append(reply, "s", v);
}

static const sd_bus_vtable unit_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("LoadState", "s", prop_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ActiveState", "s", prop_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("SubState", "s", prop_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_VTABLE_END,
};

static int unit_find(sd_bus *bus, const char *path, const char *iface, void *data, void **found,
                     sd_bus_error *err)
{
	char *name = NULL;
	int r = sd_bus_path_decode(path, UNIT_PREFIX, &name);

	free(name);
	*found = NULL;
	return r > 0; /* every unit path exists, as systemd loads units on demand */
}

static int subscribe(sd_bus_message *m, void *data, sd_bus_error *err)
{
	subscribers++;
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Subscribe", "", "", subscribe, 0),
    SD_BUS_VTABLE_END,
};

/* PropertiesChanged for the unit u: as systemd sends it (every property that emits changes,
 * with its value) when spoof is 0; built by hand on another connection when it is 1. */
static int emit(sd_bus *bus, const struct unit *u, int spoof)
{
	sd_bus_message *m = NULL;
	char *path = NULL;
	int r = sd_bus_path_encode(UNIT_PREFIX, u->name, &path);

	if (r >= 0 && !spoof)
		r = sd_bus_emit_properties_changed_strv(bus, path, UNIT_IFACE, NULL);
	if (r >= 0 && spoof) {
		r = sd_bus_message_new_signal(bus, &m, path, "org.freedesktop.DBus.Properties",
		                              "PropertiesChanged");
		if (r >= 0)
			r = sd_bus_message_append(m, "sa{sv}as", UNIT_IFACE, 3, "LoadState", "s",
			                          "loaded", "ActiveState", "s", u->active,
			                          "SubState", "s", u->sub, 0);
		if (r >= 0)
			r = sd_bus_send(bus, m, NULL);
	}
	sd_bus_message_unref(m);
	free(path);
	return r;
}

int main(void)
{
	sd_bus *bus = NULL, *other = NULL;
	char line[512];
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* poll() sees the descriptor, not stdio's buffer: read a line at a time from the fd */
	setvbuf(stdin, NULL, _IONBF, 0);
	if ((r = sd_bus_open_system(&bus)) < 0 || (r = sd_bus_open_system(&other)) < 0) {
		fprintf(stderr, "fake_systemd1: no bus: %s\n", strerror(-r));
		return 1;
	}
	sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1",
	                         "org.freedesktop.systemd1.Manager", manager_vtable, NULL);
	sd_bus_add_fallback_vtable(bus, NULL, UNIT_PREFIX, UNIT_IFACE, unit_vtable, unit_find,
	                           NULL);
	if ((r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0)) < 0) {
		fprintf(stderr, "fake_systemd1: cannot own the name: %s\n", strerror(-r));
		return 1;
	}
	printf("ready\n");
	for (;;) {
		struct pollfd p[2] = {{.fd = 0, .events = POLLIN},
		                      {.fd = sd_bus_get_fd(bus), .events = POLLIN}};

		while ((r = sd_bus_process(bus, NULL)) > 0)
			;
		sd_bus_flush(bus);
		while (sd_bus_process(other, NULL) > 0)
			;
		if (r < 0)
			return 1;
		if (poll(p, 2, 100) < 0)
			continue;
		if (!(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		if (fgets(line, sizeof(line), stdin) == NULL)
			break;
		{
			char cmd[32], name[128], active[32], sub[32];
			int n = sscanf(line, "%31s %127s %31s %31s", cmd, name, active, sub);
			struct unit *u;

			if (n >= 1 && strcmp(cmd, "quit") == 0)
				break;
			if (n >= 1 && strcmp(cmd, "subscribers") == 0) {
				printf("%u\n", subscribers);
				continue;
			}
			if (n != 4 || (strcmp(cmd, "set") != 0 && strcmp(cmd, "spoof") != 0)) {
				printf("error: %s", line);
				continue;
			}
			if (strcmp(cmd, "set") == 0) {
				u = unit_get(name, 1);
				if (u == NULL) {
					printf("error: too many units\n");
					continue;
				}
				snprintf(u->active, sizeof(u->active), "%s", active);
				snprintf(u->sub, sizeof(u->sub), "%s", sub);
				snprintf(u->load, sizeof(u->load), "loaded");
				r = emit(bus, u, 0);
				sd_bus_flush(bus);
			} else {
				struct unit fake = {0};

				snprintf(fake.name, sizeof(fake.name), "%s", name);
				snprintf(fake.active, sizeof(fake.active), "%s", active);
				snprintf(fake.sub, sizeof(fake.sub), "%s", sub);
				r = emit(other, &fake, 1);
				sd_bus_flush(other);
			}
			printf(r < 0 ? "error: %s\n" : "ok\n", strerror(-r));
		}
	}
	sd_bus_flush_close_unref(other);
	sd_bus_flush_close_unref(bus);
	return 0;
}
