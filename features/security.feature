Feature: Forged, tampered and replayed events raise nothing
  Events are authenticated with the key set at bonding. An unpaired button, a tampered
  frame or a replay of an old event raises no alert and is counted as rejected.

  Background:
    Given a button paired with a phone
    And the phone has 2 emergency contacts

  Scenario: An unpaired button cannot raise an alert
    When an unpaired button sends a press
    And 30 seconds pass
    Then no alert is raised
    And the phone has rejected 1 events

  Scenario: A replayed alert is rejected
    When the wearer presses the button
    Then within 5 s every contact receives an SMS
    When an attacker replays the last alert event
    And 30 seconds pass
    Then exactly 2 SMS are sent
    And the phone has rejected 1 events

  Scenario: A tampered alert is rejected
    When the wearer presses the button
    And 10 seconds pass
    And an attacker sends a tampered alert event
    And 30 seconds pass
    Then exactly 2 SMS are sent
    And no call is placed
    And the phone has rejected 1 events

  Scenario: A forged event before any real one is rejected
    When an attacker sends a tampered alert event
    And 10 seconds pass
    Then no alert is raised
    And the phone has rejected 1 events

  Scenario: Repeated replays are each counted
    When the wearer double-presses the button
    And 10 seconds pass
    And an attacker replays the last alert event
    And an attacker replays the last alert event
    And an attacker sends a tampered alert event
    And 1 minutes pass
    Then the phone has rejected 3 events
    And contact "Contact 1" has been called 1 times
