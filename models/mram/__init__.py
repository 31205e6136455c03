"""ST-MRAM programming physics and the energy/area model of programming options."""
