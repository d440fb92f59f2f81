/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_record: the pair record's vocabulary (see duet_record.h). Pure C,
 * any thread.
 */
#include <errno.h>
#include <string.h>

#include "duet_record.h"

static const char *const mode_names[DUET_MODE_COUNT] = {
	[DUET_MODE_PASSTHROUGH] = "passthrough",
	[DUET_MODE_VERIFY] = "verify",
	[DUET_MODE_REKEY] = "rekey",
};

static const char *const key_fields[DUET_KEY_COUNT] = {
	[DUET_KEY_A_IN] = DUET_FIELD_A_IN,
	[DUET_KEY_A_OUT] = DUET_FIELD_A_OUT,
	[DUET_KEY_B_IN] = DUET_FIELD_B_IN,
	[DUET_KEY_B_OUT] = DUET_FIELD_B_OUT,
};

const char *
duet_mode_name(unsigned int mode)
{
	return mode < DUET_MODE_COUNT ? mode_names[mode] : NULL;
}

int
duet_mode_parse(const char *s, uint8_t *mode)
{
	unsigned int i;

	for (i = 0; s != NULL && i < DUET_MODE_COUNT; i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*mode = (uint8_t)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
duet_mode_list(void)
{
	return "passthrough, verify, rekey";
}

const char *
duet_key_field(unsigned int k)
{
	return k < DUET_KEY_COUNT ? key_fields[k] : NULL;
}

int
duet_key_field_index(const char *name, size_t len)
{
	unsigned int k;

	for (k = 0; name != NULL && k < DUET_KEY_COUNT; k++)
		if (strlen(key_fields[k]) == len && memcmp(name, key_fields[k], len) == 0)
			return (int)k;
	return -1;
}

bool
duet_mode_takes_key(unsigned int mode, unsigned int k)
{
	if (k >= DUET_KEY_COUNT)
		return false;
	switch (mode) {
	case DUET_MODE_VERIFY:
		return k == DUET_KEY_A_IN || k == DUET_KEY_B_IN;
	case DUET_MODE_REKEY:
		return true;
	default:
		return false;
	}
}

bool
duet_record_id_ok(const char *id)
{
	size_t i, n;

	if (id == NULL)
		return false;
	n = strlen(id);
	if (n == 0 || n > DUET_RECORD_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!duet_record_id_char(id[i]))
			return false;
	return true;
}
