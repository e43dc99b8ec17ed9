Feature: The phone app survives crashes and torn writes
  A crash of the phone app at any point, or a torn write of its storage, loses no alert
  and sends no alert twice: the app records what it is about to do before it does it,
  keeps two copies of its state and resumes every alert where it stood after a restart.
  (Every crash point of these and more is explored by `sim/tests/crash_explore.rs`.)

  Background:
    Given a button paired with a phone
    And the phone has 3 emergency contacts

  Scenario: A crash between two SMS of an alert: each contact gets exactly one
    When the wearer presses the button
    And the phone app crashes after sending 1 SMS
    Then within 60 s every contact receives an SMS
    And exactly 3 SMS are sent
    And the phone has rejected 0 events

  Scenario: A crash right after the last SMS sends nothing again
    When the wearer presses the button
    And the phone app crashes after sending 3 SMS
    And 2 minutes pass
    Then every contact receives an SMS
    And exactly 3 SMS are sent

  Scenario: A torn write of the app's storage loses no alert
    When the wearer presses the button
    And the phone app crashes while saving
    Then within 60 s every contact receives an SMS
    And exactly 3 SMS are sent
    And 3 contacts receive an SMS containing "I need help."

  Scenario: A torn write during a double press: one SMS and at most the redials each
    When the wearer double-presses the button
    And the phone app crashes while saving
    Then within 60 s the phone calls every contact
    And within 60 s 3 contacts receive an SMS containing "Join the conference"
    And exactly 3 SMS are sent
    And contact "Contact 1" has been called 1 times
    And contact "Contact 3" has been called 1 times

  Scenario: A crash while the siren starts: one siren, one recording
    When the wearer holds the button for 3 s
    And the phone app crashes while saving
    Then the siren is on
    And an audio recording is in progress
    When 5 seconds pass
    And the wearer holds the button for 3 s
    Then the siren is off
    And within 5 s an audio recording of at least 5 s is stored

  Scenario: A crash during a fall countdown keeps the countdown and alerts once
    When the trace "traces/fall_forward.jsonl" is replayed
    And the phone app crashes while saving
    Then a fall is reported to the phone
    And within 60 s 3 contacts receive an SMS containing "Fall detected"
    And exactly 3 SMS are sent

  Scenario: "I am safe" after a crash goes to everyone alerted, once
    When the wearer presses the button
    And the phone app crashes after sending 2 SMS
    And 1 minutes pass
    And the wearer triple-presses the button
    Then within 30 s 3 contacts receive an SMS containing "I am safe"
    And exactly 6 SMS are sent
