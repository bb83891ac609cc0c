/* bird.h - placeholder */
