// Checkout: POST /checkouts and the simulator publishing PatientCheckedOut (Step 5).
export {};
