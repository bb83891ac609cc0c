/* bird.c - placeholder until the BIRD client lands. */
#include <config.h>
