"""Certificates of origin under EPAs: the register of certificates both ways, their lifecycle,
verification requests and answers, and lookup at clearance."""
